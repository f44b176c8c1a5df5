"""A chat inbox's config: the one validator, for the Settings form, the CLI and
the widget server alike (docs/widget.md, "The chat inbox").

Pure, no I/O. ``parse_chat_config`` turns whatever is stored or typed into a
``ChatConfig`` or raises ``ChatConfigError`` (a ValueError) whose message names
the setting and says what is wrong; it never raises anything else, whatever
the input (tests/unit/test_chat_config.py holds it to that with hypothesis).

Origins are compared as browsers send them in the ``Origin`` header:
``scheme://host[:port]``, lower case, the host in punycode, the scheme's
default port left out. So an admin may type ``https://Bücher.example:443/``
and the entry still matches what the browser sends. Plain ``http`` is allowed
only for this machine (``localhost``, ``127.0.0.1`` and ``[::1]``), where a
developer tries the widget: anywhere else an http page could be rewritten on
the way, so it is refused rather than trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import idna

__all__ = [
    "CHAT_KEYS",
    "DEFAULT_COLOR",
    "DEFAULT_GREETING",
    "MAX_AVATAR_URL",
    "MAX_GREETING",
    "MAX_ORIGINS",
    "POSITIONS",
    "PRECHAT_MODES",
    "ChatConfig",
    "ChatConfigError",
    "identity_hash",
    "identity_matches",
    "new_identity_secret",
    "normalize_origin",
    "origin_allowed",
    "origin_of",
    "parse_chat_config",
    "plain_text",
    "widget_snippet",
]

DEFAULT_COLOR = "#2563eb"
DEFAULT_GREETING = "Hi! How can we help?"
MAX_GREETING = 300
MAX_AVATAR_URL = 500
MAX_ORIGINS = 20
MAX_ORIGIN = 300  # characters of one typed origin: a 253-character host, a scheme and a port
POSITIONS = ("right", "left")
PRECHAT_MODES = ("off", "optional", "required")
MIN_SECRET, MAX_SECRET = 32, 256
# Only these keys are the chat inbox's; others in an inbox config (hours, for
# instance) belong to other parts and are left alone.
CHAT_KEYS = (
    "allowed_origins",
    "color",
    "greeting",
    "avatar_url",
    "position",
    "prechat",
    "identity_secret",
    "followup_inbox_id",
)

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]"})
_DEFAULT_PORT = {"http": 80, "https": 443}
_ORIGIN = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<host>\[[^\]/]*\]|[^:/?#]*)"
    r"(?::(?P<port>[^/?#]*))?"
    r"(?P<rest>.*)",
    re.DOTALL,
)
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_SECRET = re.compile(r"[!-~]+")  # printable ASCII, no spaces
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+")
# Text direction overrides: invisible, and they can make a greeting read other
# than it is stored.
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


class ChatConfigError(ValueError):
    """A chat inbox setting that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ChatConfig:
    allowed_origins: tuple[str, ...] = ()
    color: str = DEFAULT_COLOR
    greeting: str = DEFAULT_GREETING
    avatar_url: str = ""
    position: str = "right"
    prechat: str = "optional"
    identity_secret: str = field(default="", repr=False)  # never in a log line
    followup_inbox_id: int | None = None

    def public(self) -> dict[str, Any]:
        """What ``GET /widget/config`` answers: branding and the pre-chat mode.
        Never the secret, the origin list or the follow-up inbox."""
        return {
            "color": self.color,
            "greeting": self.greeting,
            "avatar_url": self.avatar_url,
            "position": self.position,
            "prechat": self.prechat,
        }

    def as_config(self) -> dict[str, Any]:
        """The keys to store in the inbox config (the secret is sealed there)."""
        stored = asdict(self)
        stored["allowed_origins"] = list(self.allowed_origins)
        return stored


def new_identity_secret() -> str:
    return secrets.token_urlsafe(32)


def parse_chat_config(raw: Mapping[str, Any]) -> ChatConfig:
    """The chat inbox's settings from ``raw`` (stored, or typed); missing keys get
    their defaults and a missing secret is generated. Raises ChatConfigError."""
    if not isinstance(raw, Mapping):
        raise ChatConfigError("a chat inbox config is an object of settings")
    return ChatConfig(
        allowed_origins=_origins(raw.get("allowed_origins")),
        color=_color(raw.get("color")),
        greeting=_greeting(raw.get("greeting")),
        avatar_url=_avatar(raw.get("avatar_url")),
        position=_choice("position", raw.get("position"), POSITIONS, "right"),
        prechat=_choice("prechat", raw.get("prechat"), PRECHAT_MODES, "optional"),
        identity_secret=_secret(raw.get("identity_secret")),
        followup_inbox_id=_inbox_id(raw.get("followup_inbox_id")),
    )


def normalize_origin(value: str, *, any_http: bool = False) -> str:
    """``value`` as a browser's ``Origin`` header spells it. Plain http only for
    this machine unless ``any_http`` (for comparing what a browser sent, and for
    our own address). Raises ChatConfigError."""
    if not isinstance(value, str):
        raise ChatConfigError("an origin is text, such as https://shop.example")
    text = value.strip()
    if not text or len(text) > MAX_ORIGIN:
        raise ChatConfigError(f"an origin has 1 to {MAX_ORIGIN} characters")
    shown = repr(text[:80])
    if "*" in text:
        raise ChatConfigError(f"{shown}: no wildcards; list each origin")
    found = _ORIGIN.fullmatch(text)
    if found is None:
        raise ChatConfigError(f"{shown} is not scheme://host[:port], e.g. https://shop.example")
    scheme = found["scheme"].lower()
    if scheme not in _DEFAULT_PORT:
        raise ChatConfigError(f"{shown}: an origin is https:// (or http:// on localhost)")
    authority = re.split(r"[/?#]", text.split("://", 1)[1], maxsplit=1)[0]
    if "@" in authority:
        raise ChatConfigError(f"{shown}: no user name or password in an origin")
    if found["rest"] not in ("", "/"):
        raise ChatConfigError(
            f"{shown}: an origin has no path, query or fragment: just scheme://host[:port]"
        )
    host = _host(found["host"], shown)
    port = _port(found["port"], shown)
    if scheme == "http" and host not in _LOOPBACK and not any_http:
        raise ChatConfigError(
            f"{shown}: use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])"
        )
    if port is None or port == _DEFAULT_PORT[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_allowed(config: ChatConfig, origin: str | None, also: Iterable[str] = ()) -> bool:
    """May a page at ``origin`` (the browser's ``Origin`` header) use this inbox's
    widget? Its allowed origins, exactly, plus the origins of the URLs in ``also``:
    the server passes its own public address, so the admin's test page
    (Settings) works for every inbox."""
    if origin is None:
        return False
    try:
        asked = normalize_origin(origin, any_http=True)
    except ChatConfigError:
        return False  # "null", garbage: nothing to match
    if asked in config.allowed_origins:
        return True
    return any(origin_of(extra) == asked for extra in also)


def origin_of(url: str) -> str | None:
    """The origin of a URL such as our public address (``https://desk.example/x``
    gives ``https://desk.example``), or None when it has none."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return None
    try:
        return normalize_origin(f"{scheme}://{re.split(r'[/?#]', rest)[0]}", any_http=True)
    except ChatConfigError:
        return None


def identity_hash(secret: str, user_id: str, email: str) -> str:
    """hex(HMAC-SHA256(secret, user_id + "\\n" + email)): what the business's
    backend computes for a signed-in user (docs/widget.md, "Verified")."""
    message = f"{user_id}\n{email}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def identity_matches(secret: str | None, user_id: str, email: str, given: str) -> bool:
    """Is ``given`` the identity hash of this user, compared in constant time? False
    without a usable secret, and for a user id with a newline: it would make two
    different (user id, email) pairs sign alike."""
    if not secret or len(secret) < MIN_SECRET or "\n" in user_id:
        return False
    if not isinstance(given, str) or len(given) != 64 or not given.isascii():
        return False
    try:
        expected = identity_hash(secret, user_id, email)
    except UnicodeEncodeError:  # a lone surrogate: no hash of ours could match it
        return False
    return hmac.compare_digest(expected, given.lower())


def widget_snippet(base_url: str, key: str) -> str:
    """The tag a business pastes into its pages (docs/widget.md)."""
    src = html.escape(f"{base_url.rstrip('/')}/widget.js")
    return f'<script src="{src}" data-inbox="{html.escape(key)}" async></script>'


# -- the settings, one by one ---------------------------------------------------------


def _origins(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ChatConfigError("allowed origins: a list of scheme://host[:port]")
    if len(value) > MAX_ORIGINS:
        raise ChatConfigError(f"allowed origins: at most {MAX_ORIGINS}, got {len(value)}")
    found: list[str] = []
    for item in value:
        try:
            origin = normalize_origin(item)
        except ChatConfigError as exc:
            raise ChatConfigError(f"allowed origins: {exc}") from None
        if origin not in found:
            found.append(origin)
    return tuple(found)


def _host(raw: str, shown: str) -> str:
    if not raw:
        raise ChatConfigError(f"{shown}: the host is missing")
    if raw.startswith("["):
        try:
            if "%" in raw:
                raise ValueError("zone ids are local to one machine")
            return f"[{ipaddress.IPv6Address(raw[1:-1]).compressed}]"
        except ValueError:
            raise ChatConfigError(f"{shown}: not an IPv6 address in brackets") from None
    host = raw.lower()
    if not host.isascii():
        try:
            host = idna.encode(raw, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise ChatConfigError(f"{shown}: not a valid international host name") from None
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ChatConfigError(f"{shown}: not a valid host name")
    if labels[-1].isdigit():  # browsers read such a host as an IPv4 address
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ChatConfigError(f"{shown}: not a valid IPv4 address") from None
    return host


def _port(raw: str | None, shown: str) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 5 and 0 < int(raw) < 65536):
        raise ChatConfigError(f"{shown}: the port is a number from 1 to 65535")
    return int(raw)


def _color(value: Any) -> str:
    if value is None:
        return DEFAULT_COLOR
    if not isinstance(value, str) or not _COLOR.fullmatch(value.strip()):
        raise ChatConfigError("color: a hex color #rrggbb, such as #2563eb")
    return value.strip().lower()


def plain_text(value: str) -> str:
    """Text a visitor or customer will see, as an admin typed it: line breaks kept
    (as ``\n``), control characters, lone surrogates and bidi overrides dropped
    (they could reorder or hide what the reader sees), ends stripped."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch
        for ch in text
        if ch == "\n" or (unicodedata.category(ch) not in ("Cc", "Cs") and ch not in _BIDI)
    ).strip()


def _greeting(value: Any) -> str:
    if value is None:
        return DEFAULT_GREETING
    if not isinstance(value, str):
        raise ChatConfigError("greeting: plain text")
    if len(value) > 4 * MAX_GREETING:  # bound the work before cleaning
        raise ChatConfigError(f"greeting: at most {MAX_GREETING} characters")
    text = plain_text(value)
    if len(text) > MAX_GREETING:
        raise ChatConfigError(f"greeting: at most {MAX_GREETING} characters, got {len(text)}")
    return text or DEFAULT_GREETING  # an empty greeting gets the default, never a blank bubble


def _avatar(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ChatConfigError("avatar URL: an https URL, or empty")
    url = value.strip()
    if not url:
        return ""
    if len(url) > MAX_AVATAR_URL:
        raise ChatConfigError(f"avatar URL: at most {MAX_AVATAR_URL} characters")
    if not url.lower().startswith("https://"):
        raise ChatConfigError("avatar URL: must start with https://")
    if not _URL_CHARS.fullmatch(url):
        raise ChatConfigError(
            "avatar URL: spaces, quotes and non-ASCII characters must be percent-encoded"
        )
    authority = url[len("https://") :].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if not authority or "@" in authority:
        raise ChatConfigError("avatar URL: https://host/path, without a user name or password")
    return url


def _choice(name: str, value: Any, allowed: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    picked = value.strip().lower() if isinstance(value, str) else ""
    if picked not in allowed:
        raise ChatConfigError(f"{name}: one of {', '.join(allowed)}")
    return picked


def _secret(value: Any) -> str:
    if value is None or value == "":
        # None is also what a sealed secret that no longer opens reads as: a fresh
        # random one then fails closed, as no hash the business sends verifies.
        return new_identity_secret()
    if (
        not isinstance(value, str)
        or not MIN_SECRET <= len(value) <= MAX_SECRET
        or not _SECRET.fullmatch(value)
    ):
        raise ChatConfigError(
            f"identity secret: {MIN_SECRET} to {MAX_SECRET} printable characters, no spaces"
        )
    return value


def _inbox_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise ChatConfigError("follow-up inbox: an email inbox's id, or null for the first one")
    return value
