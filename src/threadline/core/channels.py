"""Facts about channels the core needs to decide where a reply can go."""

from __future__ import annotations

from threadline.core.model import Channel

__all__ = ["REPLY_IDENTITY"]

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
