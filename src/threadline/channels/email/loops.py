"""Loop prevention: recognising mail that a machine wrote, or that we sent ourselves.

Answering an auto-reply, a mailing list or our own echo starts a mail loop, so
such mail becomes Ignored before it can reach a conversation. These checks sit
apart from parsing because each reason is a policy decision, not a parse step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import Message

from threadline.channels.email.headers import header

__all__ = ["automatic", "is_ours"]

# Mirrors core.tokens.new_message_id: only a Message-ID we minted can be our echo.
# The ticket- shape is what we minted before the ids became random.
_OWN_ID = re.compile(r"(?:tl\.[0-9a-f]{32}|ticket-\d+\.msg-\d+)@(?P<domain>.+)", re.IGNORECASE)


def is_ours(message_id: str, our_domains: Sequence[str]) -> bool:
    match = _OWN_ID.fullmatch(message_id)
    return match is not None and match["domain"].lower() in {d.lower() for d in our_domains}


def automatic(msg: Message, mail_from: str | None) -> str | None:
    """Why this mail was written by a machine (RFC 3834, RFC 2369/2919), if it was."""
    auto = header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto}"
    precedence = header(msg, "Precedence").lower()
    if precedence in {"bulk", "junk", "list"}:
        return f"precedence: {precedence}"
    if "List-Id" in msg or "List-Unsubscribe" in msg:
        return "mailing list"
    if mail_from == "" or "".join(header(msg, "Return-Path").split()) == "<>":
        return "null sender"
    # Exchange stamps X-Auto-Response-Suppress on its own automatic mail (OOF,
    # NDRs, rules), but Outlook and apps also send "DR, RN, NRN" or "AutoReply"
    # on ordinary mail just to ask for no receipts. Only All or OOF are strong
    # enough to call the mail automatic.
    suppress = {v.strip().lower() for v in header(msg, "X-Auto-Response-Suppress").split(",")}
    for value in ("all", "oof"):
        if value in suppress:
            return f"auto-response-suppress: {value}"
    return None
