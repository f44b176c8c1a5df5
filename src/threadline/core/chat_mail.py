"""The mail live chat sends: a follow-up of replies the visitor left before
reading, the transcript a visitor asks for, and the missed-chat alert to agents.

Pure: lines of chat and a time zone in, a subject and text (and for the
transcript, simple HTML) out. Everything a visitor or an agent typed is text:
the HTML escapes it, and nothing in it becomes a header (the subject is built
only from names, on one line).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EXCERPT_CHARS",
    "ChatLine",
    "Mail",
    "excerpt",
    "followup_mail",
    "missed_chat_mail",
    "time_zone",
    "transcript_mail",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
EXCERPT_LINES = 3
EXCERPT_CHARS = 300
MAX_NAME = 80  # of a name in a subject line


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One message of a chat as a person reads it back."""

    who: str  # "You", the agent's name, or the business's
    at: datetime
    text: str
    files: tuple[str, ...] = ()  # file names: the mail names them, the chat holds them


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    text: str
    html: str | None = None  # None: the sender derives it from the text


def time_zone(name: str | None) -> tzinfo:
    """The business's zone; a name zoneinfo does not know reads as UTC, so a typo
    in the profile never stops a mail."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _when(at: datetime, zone: tzinfo) -> str:
    local = at.astimezone(zone)
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def _one_line(value: str, limit: int = MAX_NAME) -> str:
    return " ".join(value.split())[:limit]


def _text_block(line: ChatLine, zone: tzinfo) -> str:
    body = line.text.strip()
    for name in line.files:
        body += f"\n[file: {_one_line(name, 200)}]"
    return f"{line.who}, {_when(line.at, zone)}:\n{body}"


def excerpt(text: str) -> str:
    """The first few lines of a message, for an alert that must not carry it all."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    short = "\n".join(lines[:EXCERPT_LINES])
    if len(short) > EXCERPT_CHARS:
        short = short[: EXCERPT_CHARS - 1].rstrip() + "…"
    elif len(lines) > EXCERPT_LINES:
        short += "\n…"
    return short


def followup_mail(
    lines: Sequence[ChatLine], *, business: str, page: str | None, zone: tzinfo
) -> Mail:
    """The agents' replies a visitor left the chat before reading, in one mail."""
    what = "here is our reply:" if len(lines) == 1 else "here are our replies:"
    intro = f"You left the chat before {business} could answer, so {what}"
    parts = [intro, *(_text_block(line, zone) for line in lines)]
    ending = "Reply to this email to continue the conversation"
    parts.append(f"{ending}, or go back to the chat: {page}" if page else f"{ending}.")
    return Mail(
        subject=f"Your chat with {_one_line(business)}",
        text="\n\n".join(parts) + "\n",
    )


def transcript_mail(lines: Sequence[ChatLine], *, business: str, zone: tzinfo) -> Mail:
    """The whole chat, as the visitor saw it, in plain text and simple HTML."""
    name = _one_line(business)
    intro = f"Here is the transcript of your chat with {name}."
    ending = "Reply to this email if there is anything else."
    text = "\n\n".join([intro, *(_text_block(line, zone) for line in lines), ending]) + "\n"
    rows = []
    for line in lines:
        body = html.escape(line.text.strip()).replace("\n", "<br>\n")
        for file_name in line.files:
            body += f"<br>\n[file: {html.escape(_one_line(file_name, 200))}]"
        rows.append(
            '<p style="margin:0 0 14px">'
            f"<strong>{html.escape(line.who)}</strong> "
            f'<span style="color:#59636e">{html.escape(_when(line.at, zone))}</span><br>\n'
            f"{body}</p>"
        )
    page = (
        "<!DOCTYPE html>\n<html><body>\n"
        f"<p>{html.escape(intro)}</p>\n" + "\n".join(rows) + f"\n<p>{html.escape(ending)}</p>\n"
        "</body></html>\n"
    )
    return Mail(subject=f"Transcript of your chat with {name}", text=text, html=page)


def missed_chat_mail(
    *, customer: str, inbox: str, waiting_since: datetime, first: str, link: str, zone: tzinfo
) -> Mail:
    """The alert agents get when nobody answered a chat in time."""
    who = _one_line(customer) or "A visitor"
    text = (
        f"{who} has been waiting in the chat ({_one_line(inbox)}) since "
        f"{_when(waiting_since, zone)}, and nobody has answered yet.\n\n"
        + "\n".join(f"> {ln}" for ln in excerpt(first).splitlines())
        + f"\n\nOpen the conversation: {link}\n"
    )
    return Mail(subject=f"Missed chat from {who}", text=text)
