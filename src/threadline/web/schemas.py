"""Request bodies of the REST API (msgspec: validated in microseconds)."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "ConversationPatch",
    "IdentityIn",
    "MergeIn",
    "ReplayIn",
    "ReplyIn",
    "TemplateIn",
    "UnmergeIn",
]

Status = Literal["open", "pending", "snoozed", "resolved"]
ChannelName = Literal[
    "email", "sms", "voice", "chat", "whatsapp", "messenger", "instagram", "telegram", "api"
]


class IdentityIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    value: str
    verified: bool = False


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    identities: list[IdentityIn] = []


class MergeIn(msgspec.Struct, forbid_unknown_fields=True):
    source_id: int
    target_id: int


class UnmergeIn(msgspec.Struct, forbid_unknown_fields=True):
    merge_id: int


class ConversationPatch(msgspec.Struct, forbid_unknown_fields=True):
    status: Status | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    assignee_id: int | None = None
    unassign: bool = False


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    """An approved provider template (WhatsApp outside the 24-hour window)."""

    name: str
    language: str = "en"
    parameters: list[str] = []


class ReplyIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    channel: ChannelName | None = None
    html: str | None = None
    note: bool = False
    status: Status | None = None
    template: TemplateIn | None = None


class ReplayIn(msgspec.Struct, forbid_unknown_fields=True):
    payload: str | None = None  # a corrected payload; omit to replay the stored one
