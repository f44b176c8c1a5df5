"""Request bodies and responses of the REST API (msgspec: validated in microseconds).

The response models are the API's contract: OpenAPI documents each one, and
tests/contract/openapi.json holds a snapshot of the schema a test compares.
Queries return rows as dicts (the UI and the tests read them too); views turn
them into these models at the edge with `to_model`, which also checks each row
against the contract.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec

__all__ = [
    "AttachmentIn",
    "BodyId",
    "Call",
    "Conversation",
    "ConversationDetail",
    "ConversationHit",
    "ConversationHits",
    "ConversationMergeIn",
    "ConversationPatch",
    "Customer",
    "CustomerHit",
    "CustomerHits",
    "CustomerPatch",
    "CustomerSummary",
    "Duty",
    "Identity",
    "IdentityIn",
    "Intake",
    "IntakeCategory",
    "IntakeCategoryIn",
    "IntakeChecklist",
    "IntakeFact",
    "IntakeFactIn",
    "IntakeIn",
    "LastMessage",
    "MergeIn",
    "MergeResult",
    "MergeSuggestionDetail",
    "Message",
    "MessageHit",
    "MessageHits",
    "ReadMarker",
    "Receipt",
    "ReceiptDetail",
    "ReceiptOutcome",
    "ReplayIn",
    "ReplyIn",
    "ReplyOptions",
    "ReplyResult",
    "SearchKind",
    "SearchResults",
    "Segment",
    "SuggestedCustomer",
    "TagsPatch",
    "Task",
    "TemplateIn",
    "TimelineEntry",
    "TriageCorrection",
    "TriageDecision",
    "TriageIn",
    "TriageResult",
    "UnmergeIn",
    "UnmergeResult",
    "to_model",
]

T = TypeVar("T")

Status = Literal["open", "pending", "snoozed", "resolved"]
ChannelName = Literal[
    "email", "sms", "voice", "chat", "whatsapp", "messenger", "instagram", "telegram", "api"
]
Priority = Literal["low", "normal", "high", "urgent"]
# SQLite cannot bind an int past 64 bits: without the bound such an id was a 500.
BodyId = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]
Direction = Literal["inbound", "outbound", "note"]
ReceiptStatus = Literal["processed", "ignored", "quarantined"]


class IdentityIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    value: str
    verified: bool = False


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    identities: list[IdentityIn] = []


class MergeIn(msgspec.Struct, forbid_unknown_fields=True):
    source_id: BodyId
    target_id: BodyId


class UnmergeIn(msgspec.Struct, forbid_unknown_fields=True):
    merge_id: BodyId


# A tag as typed; the action normalizes it and refuses what it cannot (core/tags.py).
TagIn = Annotated[str, msgspec.Meta(max_length=100)]
Tags = Annotated[list[TagIn], msgspec.Meta(max_length=20)]


class TagsPatch(msgspec.Struct, forbid_unknown_fields=True):
    add: Tags = []
    remove: Tags = []


class ConversationPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only what is given changes. ``snoozed_until`` (with or without status
    "snoozed") snoozes until then; ``unassign``/``unassign_team`` clear the agent
    or the team."""

    status: Status | None = None
    snoozed_until: datetime | None = None
    priority: Priority | None = None
    assignee_id: BodyId | None = None
    unassign: bool = False
    team_id: BodyId | None = None
    unassign_team: bool = False
    escalation_level: Literal[1, 2] | None = None
    tags: TagsPatch | None = None


class ConversationMergeIn(msgspec.Struct, forbid_unknown_fields=True):
    """The conversation whose messages move into this one; it is then resolved."""

    source_id: BodyId


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    """An approved provider template (WhatsApp outside the 24-hour window)."""

    name: str
    language: str = "en"
    parameters: list[str] = []


class AttachmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A file to send with a reply. The type is checked against the bytes: a file
    whose bytes contradict it is sent as application/octet-stream, if at all."""

    filename: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    data_base64: Annotated[str, msgspec.Meta(min_length=1, max_length=14 * 1024 * 1024)]
    content_type: Annotated[str, msgspec.Meta(max_length=200)] = ""


class ReplyIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    channel: ChannelName | None = None
    html: str | None = None
    note: bool = False
    status: Status | None = None
    template: TemplateIn | None = None
    # At most 10; the whole request body is capped at 10 MiB (base64 included).
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=10)] = []


class ReplayIn(msgspec.Struct, forbid_unknown_fields=True):
    payload: str | None = None  # a corrected payload; omit to replay the stored one


# -- responses ---------------------------------------------------------------------------
class ReceiptOutcome(msgspec.Struct):
    """What became of one inbound payload. ``duplicate``: seen before, nothing stored."""

    receipt_id: int
    status: Literal["processed", "ignored", "quarantined", "duplicate"]
    message_id: int | None
    conversation_id: int | None
    customer_id: int | None
    detail: str | None


class Identity(msgspec.Struct):
    id: int
    kind: str
    value: str
    verified: bool


class CustomerSummary(msgspec.Struct):
    id: int
    name: str | None
    created_at: datetime
    identities: list[Identity]


class Merge(msgspec.Struct):
    id: int
    source_id: int
    created_at: datetime


class MergeSuggestion(msgspec.Struct):
    id: int
    customer_id: int
    other_customer_id: int
    identity: str
    reason: str


class Customer(msgspec.Struct):
    id: int
    name: str | None
    merged_into_id: int | None
    created_at: datetime
    identities: list[Identity]
    merges: list[Merge]
    merge_suggestions: list[MergeSuggestion]
    attributes: dict[str, str] = {}


class MergeResult(msgspec.Struct):
    merge_id: int
    target_id: int


class UnmergeResult(msgspec.Struct):
    restored_customer_id: int


class Message(msgspec.Struct):
    id: int
    conversation_id: int
    direction: Direction
    channel: ChannelName
    author_type: str
    author_id: int | None
    text: str
    status: str
    error: str | None
    recipient: str | None
    sender: str | None
    warnings: list[str]
    created_at: datetime
    sent_at: datetime | None


class TimelineEntry(msgspec.Struct):
    id: int
    kind: str
    conversation_id: int | None
    created_at: datetime
    data: dict[str, Any]
    message: Message | None


class LastMessage(msgspec.Struct):
    """The latest message that is not an internal note: the inbox row's preview."""

    text: str  # one line, at most 140 characters
    channel: ChannelName
    direction: Literal["inbound", "outbound"]
    created_at: datetime


Category = Literal["sales", "billing", "technical", "logistics", "other"]
# A triage request reads at most this much text (core/triage.py scans the first 4096
# characters of it); the rest of a long email is refused rather than ignored unseen.
MAX_TRIAGE_TEXT = 20_000


class TriageIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=MAX_TRIAGE_TEXT)]
    channel: ChannelName
    # the channels the customer can be answered on; omitted: any
    reachable: Annotated[list[ChannelName], msgspec.Meta(max_length=9)] | None = None


class TriageResult(msgspec.Struct):
    """What triage decided about a text, and why."""

    category: Category
    urgent: bool
    sensitive: bool
    recommended_channel: ChannelName | None  # None: no channel reaches the customer
    reasons: list[str]


class TriageDecision(TriageResult):
    """The conversation's latest triage decision, with an agent's correction if any."""

    message_id: int | None  # the message it was made on
    category_by_agent: bool  # an agent set the category; triage keeps it since
    decided_at: datetime
    corrected_by_id: int | None  # the latest decision is this agent's correction
    corrected_at: datetime | None


class TriageCorrection(msgspec.Struct, forbid_unknown_fields=True):
    """An agent's correction: only what is given changes."""

    category: Category | None = None
    urgent: bool | None = None
    sensitive: bool | None = None


# The intake checklist (core/intake.py, docs/intake.md). The bounds here are the
# shapes; parse_checklist checks the rest (the patterns, the placeholder, the totals)
# and answers 422 with what is wrong.
Language = Literal["en", "de", "es", "fr"]
_Phrase = Annotated[str, msgspec.Meta(max_length=600)]


class IntakeFact(msgspec.Struct):
    key: str
    label: str  # "Order number"
    ask: dict[str, str]  # language -> "your order number"
    patterns: list[str]  # regular expressions; the first group is the value
    optional: bool = False  # shown when found, never asked for


class IntakeCategory(msgspec.Struct):
    facts: list[IntakeFact]
    template: dict[str, str]  # language -> "Could you send us {missing}?"


class IntakeChecklist(msgspec.Struct):
    """The checklist in force, per category."""

    categories: dict[str, IntakeCategory]
    stored: bool  # False: the checklist Threadline ships
    saved_at: datetime | None
    saved_by_id: int | None


class IntakeFactIn(msgspec.Struct, forbid_unknown_fields=True):
    key: Annotated[str, msgspec.Meta(max_length=40)]
    label: Annotated[str, msgspec.Meta(max_length=60)]
    ask: Annotated[dict[Language, _Phrase], msgspec.Meta(min_length=1)]
    patterns: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=400)]], msgspec.Meta(min_length=1, max_length=8)
    ]
    optional: bool = False


class IntakeCategoryIn(msgspec.Struct, forbid_unknown_fields=True):
    facts: Annotated[list[IntakeFactIn], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )
    template: dict[Language, _Phrase] = msgspec.field(default_factory=dict)


class IntakeIn(msgspec.Struct, forbid_unknown_fields=True):
    """A whole checklist; a category left out asks for nothing."""

    categories: Annotated[
        dict[Annotated[str, msgspec.Meta(max_length=32)], IntakeCategoryIn],
        msgspec.Meta(max_length=5),
    ]


class Intake(msgspec.Struct):
    """What the customer has told of the facts the conversation's category needs."""

    category: Category
    found: dict[str, str]  # fact key -> the value as the customer wrote it
    missing: list[str]  # keys of the facts still to ask for
    language: Language | None  # the customer's, as guessed from their words
    ask: str | None  # the message asking for the missing facts; None: nothing missing


class Conversation(msgspec.Struct):
    """A conversation as an inbox row shows it, for the viewer who asked."""

    id: int
    customer_id: int
    customer_name: str | None
    status: Status
    priority: Priority
    category: str | None
    assignee_id: int | None
    assignee_name: str | None
    team_id: int | None
    team_name: str | None
    escalation_level: int
    subject: str | None
    snoozed_until: datetime | None
    waiting_since: datetime | None  # the oldest customer message no agent has answered
    # When that customer is owed an answer (the SLA policy, docs/DESIGN.md §8): a first
    # one until an agent has answered, a next one after; the resolution; and since when
    # the conversation has been pending on the customer (the clocks stand still).
    first_response_due_at: datetime | None
    # The most urgent SLA clock running on it (breached, then warning, then the
    # soonest due): its state, which target it is, and when it is due. None when
    # no clock runs (nobody waits).
    sla_state: Literal["running", "warning", "breached"] | None
    sla_clock: Literal["first_response", "next_response", "resolution", "callback"] | None
    sla_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    paused_at: datetime | None
    tags: list[str]
    unread: bool  # the customer wrote since the viewer last read it
    last_message: LastMessage | None
    last_inbound_channel: ChannelName | None
    last_inbound_at: datetime | None
    last_activity_at: datetime
    resolved_at: datetime | None
    created_at: datetime


class ConversationDetail(Conversation):
    """One conversation, with its triage decision (None before a customer message)
    and its intake (computed from the customer's newest messages)."""

    triage: TriageDecision | None
    intake: Intake


class ReadMarker(msgspec.Struct):
    """The caller has read the conversation up to ``read_at``."""

    conversation_id: int
    read_at: datetime


class ReplyResult(msgspec.Struct):
    message_id: int
    channel: ChannelName
    recipient: str | None
    status: str
    warnings: list[str]


class Receipt(msgspec.Struct):
    id: int
    inbox_id: int
    source: str
    provider_message_id: str
    status: ReceiptStatus
    error: str | None
    message_id: int | None
    received_at: datetime
    processed_at: datetime | None
    replays: int


class ReceiptDetail(Receipt):
    payload: str  # as text; bytes that are not UTF-8 show as U+FFFD
    context: dict[str, Any]


class SmsEstimate(msgspec.Struct):
    segments: int
    encoding: Literal["GSM-7", "UCS-2"]


class ReplyOption(msgspec.Struct):
    channel: ChannelName
    recipient: str | None
    allowed: bool
    reason: str | None
    warnings: list[str]
    template_required: bool
    max_text: int | None
    attachment_types: list[str]  # MIME types or prefixes such as "image/"; "" accepts any
    max_attachment_bytes: int | None
    sms: SmsEstimate | None = None


class ReplyOptions(msgspec.Struct):
    default: ChannelName | None
    options: list[ReplyOption]


class Call(msgspec.Struct):
    id: int
    customer_id: int
    conversation_id: int | None
    direction: Literal["inbound", "outbound"]
    duration_seconds: int | None
    notes: str


class Task(msgspec.Struct):
    id: int
    kind: str
    status: Literal["open", "done", "cancelled"]
    due_at: datetime
    customer_id: int
    customer_name: str | None
    phone: str | None  # the number to call back: the customer's first phone identity
    conversation_id: int
    call_id: int | None
    assignee_id: int | None
    created_at: datetime
    done_at: datetime | None


class Duty(msgspec.Struct):
    user_id: int
    on_duty: bool
    phone: str | None


# -- the customer panel and search --------------------------------------------------------
AttributeKey = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
AttributeValue = Annotated[str, msgspec.Meta(max_length=500)]


class CustomerPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Each attribute given is set; one given as null is removed; others stay."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    attributes: (
        Annotated[dict[AttributeKey, AttributeValue | None], msgspec.Meta(max_length=100)] | None
    ) = None


class SuggestedCustomer(msgspec.Struct):
    id: int
    name: str | None
    identities: list[Identity]


class MergeSuggestionDetail(msgspec.Struct):
    """``customer`` claimed ``identity``, which ``other_customer`` owns: accepting
    merges ``customer`` into ``other_customer``."""

    id: int
    status: Literal["open", "merged", "dismissed"]
    identity: str
    reason: str
    created_at: datetime
    customer: SuggestedCustomer
    other_customer: SuggestedCustomer


SearchKind = Literal["customers", "conversations", "messages"]


class Segment(msgspec.Struct):
    """A piece of a hit's text; ``match``: it is what the query matched."""

    text: str
    match: bool


class CustomerHit(msgspec.Struct):
    id: int
    name: str | None
    segments: list[Segment]  # the name
    identities: list[Identity]
    matched: list[str]  # the identities (kind:value) the query matched


class ConversationHit(msgspec.Struct):
    id: int
    customer_id: int
    customer_name: str | None
    subject: str | None
    segments: list[Segment]  # the subject
    status: Status
    priority: Priority
    assignee_id: int | None
    assignee_name: str | None
    last_inbound_channel: ChannelName | None
    last_activity_at: datetime


class MessageHit(msgspec.Struct):
    message_id: int
    conversation_id: int
    customer_id: int
    channel: ChannelName
    direction: Direction
    created_at: datetime
    subject: str | None
    status: Status
    segments: list[Segment]  # the text around the first match


class CustomerHits(msgspec.Struct):
    hits: list[CustomerHit]
    next_cursor: str | None  # pass as ?cursor= for more customers


class ConversationHits(msgspec.Struct):
    hits: list[ConversationHit]
    next_cursor: str | None


class MessageHits(msgspec.Struct):
    hits: list[MessageHit]
    next_cursor: str | None


class SearchResults(msgspec.Struct):
    customers: CustomerHits
    conversations: ConversationHits
    messages: MessageHits


def to_model(value: Any, model: type[T]) -> T:
    """A query's dicts as a response model. Row keys are SQLAlchemy's ``quoted_name``,
    a str subclass msgspec refuses as a key, so dicts are rebuilt with plain str keys."""
    return msgspec.convert(_plain(value), model)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
