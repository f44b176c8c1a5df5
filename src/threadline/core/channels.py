"""Facts about channels the core needs to decide where a reply can go."""

from __future__ import annotations

from collections.abc import Iterable

from threadline.core.model import Channel

__all__ = ["OPAQUE_ADDRESS", "REPLY_IDENTITY", "default_reply_channel"]

# Which identity kind a reply on each channel is addressed to. The API channel
# answers whoever asked through the API, so it needs no identity at all.
REPLY_IDENTITY: dict[Channel, str | None] = {
    Channel.EMAIL: "email",
    Channel.SMS: "phone",
    Channel.VOICE: "phone",
    Channel.WHATSAPP: "whatsapp",
    Channel.MESSENGER: "messenger",
    Channel.INSTAGRAM: "instagram",
    Channel.TELEGRAM: "telegram",
    Channel.CHAT: "chat",
    Channel.API: None,
}

# Channels that address a person by an id only the provider understands (the
# widget's random visitor key, a page-scoped Meta id, a Telegram chat id): agents
# are shown the channel and the customer, never that id.
OPAQUE_ADDRESS: frozenset[Channel] = frozenset(
    {Channel.CHAT, Channel.MESSENGER, Channel.INSTAGRAM, Channel.TELEGRAM}
)

# Where a reply goes when the last message came on a channel nobody writes on (a
# voicemail): the nearest written channel first, the same phone number by SMS.
_FALLBACK = (
    Channel.SMS,
    Channel.WHATSAPP,
    Channel.EMAIL,
    Channel.CHAT,
    Channel.MESSENGER,
    Channel.INSTAGRAM,
    Channel.TELEGRAM,
    Channel.API,
)


def default_reply_channel(last_inbound: str | None, usable: Iterable[Channel]) -> Channel | None:
    """The channel a reply defaults to: where the customer last wrote, if a reply can
    go there; otherwise the first usable written channel. None: nowhere to write."""
    can = {c for c in usable if c is not Channel.VOICE}
    if last_inbound is not None and last_inbound in Channel._value2member_map_:
        last = Channel(last_inbound)
        if last in can:
            return last
    return next((c for c in _FALLBACK if c in can), None)
