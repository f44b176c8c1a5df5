"""A chat inbox's widget settings as the widget server reads them (docs/widget.md).

Only reading, with a safe default for anything absent or unusable: the Settings
page validates what admins save; here a bad stored value must neither break the
widget nor loosen anything. An unusable origin is dropped (refusing that page),
a short or missing identity secret verifies no one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from threadline.ports import Inbox

__all__ = [
    "DEFAULTS",
    "MAX_ORIGINS",
    "WidgetInbox",
    "normalize_origin",
    "widget_inbox",
]

DEFAULTS: Mapping[str, str] = {
    "color": "#2563eb",
    "greeting": "Hi! How can we help?",
    "avatar_url": "",
    "position": "right",
    "prechat": "optional",
}
MAX_ORIGINS = 100
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_HOST = re.compile(r"[a-z0-9.-]{1,253}|\[[0-9a-f:.]{2,45}\]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(raw: str) -> str | None:
    """``scheme://host[:port]`` as browsers send it in ``Origin``: lower case, the
    scheme's default port left out; None for anything that is not an origin
    (``null``, a path, a user name, a non-ASCII host not written in punycode)."""
    if not isinstance(raw, str) or len(raw) > 300 or not raw.isascii():
        return None
    try:
        parts = urlsplit(raw.strip().rstrip("/"))
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.netloc.startswith("[") or ":" in host:
        host = f"[{host}]"
    if (
        scheme not in _DEFAULT_PORTS
        or not _HOST.fullmatch(host)
        or parts.username is not None
        or parts.path
        or parts.query
        or parts.fragment
    ):
        return None
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _text(config: Mapping[str, Any], key: str, limit: int) -> str:
    value = config.get(key)
    if isinstance(value, str) and value.strip() and len(value) <= limit:
        return value.strip()
    return DEFAULTS[key]


def _choice(config: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = config.get(key)
    return value if isinstance(value, str) and value in allowed else DEFAULTS[key]


def _avatar(value: Any) -> str:
    ok = isinstance(value, str) and value.startswith("https://") and len(value) <= 500
    return value if ok and not any(c in value for c in "\"'<> \\") else ""


def _origins(value: Any) -> frozenset[str]:
    if not isinstance(value, list | tuple):
        return frozenset()
    found = (normalize_origin(v) for v in value[:MAX_ORIGINS] if isinstance(v, str))
    return frozenset(o for o in found if o)


@dataclass(frozen=True, slots=True)
class WidgetInbox:
    inbox: Inbox
    origins: frozenset[str]
    public: dict[str, Any]  # what GET /widget/config answers: branding, no secrets
    prechat: str
    identity_secret: str | None = field(default=None, repr=False)

    def allows(self, origin: str | None, also: Iterable[str] = ()) -> bool:
        """May a page at ``origin`` (the Origin header) use this widget? Its allowed
        origins, plus ``also``: the server's own origin, where the Settings preview
        shows the widget."""
        asked = normalize_origin(origin) if origin else None
        if asked is None:
            return False
        return asked in self.origins or asked in {normalize_origin(o) for o in also}


def widget_inbox(inbox: Inbox) -> WidgetInbox:
    config = inbox.config
    color = config.get("color")
    secret = config.get("identity_secret")
    prechat = _choice(config, "prechat", ("off", "optional", "required"))
    public: dict[str, Any] = {
        "inbox": inbox.address,
        "name": inbox.name,
        "color": color.lower() if isinstance(color, str) and _COLOR.fullmatch(color) else None,
        "greeting": _text(config, "greeting", 300),
        "avatar_url": _avatar(config.get("avatar_url")),
        "position": _choice(config, "position", ("right", "left")),
        "prechat": prechat,
    }
    public["color"] = public["color"] or DEFAULTS["color"]
    return WidgetInbox(
        inbox=inbox,
        origins=_origins(config.get("allowed_origins")),
        public=public,
        prechat=prechat,
        identity_secret=secret if isinstance(secret, str) else None,
    )
