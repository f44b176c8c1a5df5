"""What the reply composer shows before an agent sends: where this reply can go.

For every channel the customer can be reached on, whether the reply would be
accepted now (reply windows, length limits), the warnings (SMS segments), and
who it would go to. The same core.capabilities check guards send_reply, so
the preview and the refusal can never disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.core.capabilities import CAPABILITIES, ReplyRefused, check_reply
from threadline.core.channels import REPLY_IDENTITY, default_reply_channel
from threadline.core.model import Channel, Direction
from threadline.queries.scope import Scope
from threadline.storage.tables import conversations, identities, inboxes, messages

__all__ = ["reply_options"]


def reply_options(
    conn: Connection, conversation_id: int, text: str, now: datetime, *, scope: Scope
) -> dict[str, Any] | None:
    conv = conn.execute(
        sa.select(
            conversations.c.customer_id,
            conversations.c.last_inbound_channel,
            conversations.c.inbox_id,
        ).where(conversations.c.id == conversation_id)
    ).first()
    if conv is None or not scope.allows_inbox(conv.inbox_id):
        return None
    reachable = {
        r.kind: r.value
        for r in conn.execute(
            sa.select(identities.c.kind, identities.c.value)
            .where(identities.c.customer_id == conv.customer_id)
            .order_by(identities.c.verified, identities.c.id)  # the best one is written last
        )
    }
    last_inbound = dict(
        conn.execute(
            sa.select(messages.c.channel, sa.func.max(messages.c.created_at))
            .where(
                messages.c.customer_id == conv.customer_id,
                messages.c.direction == Direction.INBOUND.value,
            )
            .group_by(messages.c.channel)
        ).all()
    )
    configured = set(conn.execute(sa.select(inboxes.c.channel).distinct()).scalars())
    options = []
    for channel in Channel:
        if channel is Channel.VOICE:
            continue  # calls are placed, not written
        kind = REPLY_IDENTITY[channel]
        if channel.value not in configured or (kind is not None and kind not in reachable):
            continue
        caps = CAPABILITIES[channel]
        option: dict[str, Any] = {
            "channel": channel.value,
            "recipient": reachable.get(kind) if kind else None,
            "allowed": True,
            "reason": None,
            "warnings": [],
            "template_required": False,
            "max_text": caps.max_text,
            # "" accepts any type; otherwise MIME types or prefixes such as "image/"
            "attachment_types": list(caps.attachment_types),
            "max_attachment_bytes": caps.max_attachment_bytes,
        }
        last = last_inbound.get(channel.value)
        if isinstance(last, str):
            last = datetime.fromisoformat(last)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=now.tzinfo)
        try:
            check = check_reply(channel, text, now=now, last_inbound_at=last)
            option["warnings"] = list(check.warnings)
            if check.sms is not None:
                option["sms"] = {"segments": check.sms.segments, "encoding": check.sms.encoding}
        except ReplyRefused as exc:
            option.update(allowed=False, reason=str(exc))
            option["template_required"] = "template" in str(exc)
        options.append(option)
    # Never a channel the reply cannot go out on (a voicemail's "voice").
    usable = [Channel(o["channel"]) for o in options if o["allowed"]]
    default = default_reply_channel(conv.last_inbound_channel, usable)
    return {"default": default.value if default else None, "options": options}
