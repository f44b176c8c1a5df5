"""The off-hours acknowledgement: what it says, when it is owed, and to whom never.

Pure. An inbox's config holds ``"off_hours_reply": {"enabled": true, "help_url":
"https://…", "text": "…"}`` (Settings → the inbox's hours). When a customer writes
while the inbox's calendar is closed, one acknowledgement goes back on the
message's channel: it confirms receipt, says when to expect the answer (in the
words of core/promise.py) and links the self-help page.

At most one per conversation per closed period. A closed period is named by the
opening that ends it (``closed_period``): every message from Friday 17:00 to
Monday 9:00 shares "Monday 9:00", and the next evening's messages share the
next morning, so comparing that instant is comparing periods.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from threadline.core.hours import Hours, open_at, opening_after
from threadline.core.promise import Promise

__all__ = [
    "DEFAULT_TEXT",
    "MAX_TEXT",
    "MAX_URL",
    "PLACEHOLDERS",
    "OffHoursReply",
    "check_off_hours",
    "closed_period",
    "read_off_hours",
    "render",
    "unanswerable",
]

MAX_URL = 500
MAX_TEXT = 1000
PLACEHOLDERS = ("expected", "hours", "help_url")
DEFAULT_TEXT = (
    "Thank you for your message: we have received it. We're closed right now, "
    "so we'll answer {expected}. Our hours: {hours}."
)
_HELP_LINE = "You may find your answer sooner here: {help_url}"
# RFC 3834 §2: no automatic response to these, whatever the mail's headers say.
# Mail that says it is automatic (Auto-Submitted, Precedence: bulk/list, List-Id,
# the null sender) never becomes a message at all (channels/email/loops.py).
_ROBOT_LOCALS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
)


@dataclass(frozen=True, slots=True)
class OffHoursReply:
    enabled: bool = False
    help_url: str | None = None
    text: str | None = None  # None: DEFAULT_TEXT

    def as_config(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "help_url": self.help_url, "text": self.text}


def _check_url(raw: Any) -> str | None:
    url = str(raw or "").strip()
    if not url:
        return None
    if len(url) > MAX_URL:
        raise ValueError(f"the self-help link has at most {MAX_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValueError("the self-help link cannot hold spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("the self-help link is an http:// or https:// address")
    return url


def _check_text(raw: Any) -> str | None:
    text = str(raw or "").replace("\r\n", "\n").strip()
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise ValueError(f"the reply has at most {MAX_TEXT} characters")
    if any((ord(ch) < 32 and ch not in "\n\t") or ord(ch) == 127 for ch in text):
        raise ValueError("the reply cannot hold control characters")
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"a brace is not closed: {exc}; write {{{{ for a brace") from exc
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        # Only bare names: "{expected.__class__}" or "{hours:>99999}" would reach
        # into the objects or blow the text up.
        if name not in PLACEHOLDERS or spec or conversion:
            raise ValueError(
                f"unknown placeholder {{{name}}}: use "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )
    return text


def check_off_hours(raw: Mapping[str, Any]) -> OffHoursReply:
    """The setting as an admin gives it. Raises ValueError saying what is wrong."""
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ValueError("enabled is true or false")
    return OffHoursReply(enabled, _check_url(raw.get("help_url")), _check_text(raw.get("text")))


def read_off_hours(config: Mapping[str, Any]) -> OffHoursReply:
    """The inbox's stored setting; one that no longer passes the checks is off."""
    raw = config.get("off_hours_reply")
    if not isinstance(raw, Mapping):
        return OffHoursReply()
    try:
        return check_off_hours(raw)
    except ValueError:
        return OffHoursReply()


def closed_period(calendar: Hours | None, at: datetime) -> datetime | None:
    """The closed period ``at`` falls in, named by the opening that ends it (UTC);
    None when open, with no calendar (always open), or when it never opens in
    the coming year (there is no answer time to promise)."""
    if calendar is None or open_at(calendar, at):
        return None
    try:
        return opening_after(calendar, at).astimezone(UTC)
    except ValueError:
        return None


def unanswerable(sender: str) -> str | None:
    """Why an automatic reply must not go to this identity (``email:x@y``), if so."""
    kind, _, value = sender.partition(":")
    if kind != "email":
        return None
    local = value.rpartition("@")[0].lower()
    if local in _ROBOT_LOCALS or local.startswith("owner-") or local.endswith("-request"):
        return f"no automatic reply to {local}@ (RFC 3834)"
    return None


def render(reply: OffHoursReply, said: Promise) -> str:
    """The acknowledgement's text: the admin's (or the default) with the promise in
    it, and the self-help link, added when the text does not place it."""
    template = reply.text or DEFAULT_TEXT
    if reply.help_url and "{help_url}" not in template:
        template = f"{template}\n\n{_HELP_LINE}"
    values = {"expected": said.expected, "hours": said.hours, "help_url": reply.help_url or ""}
    return template.format_map(values).strip()
