"""The schema, as SQLAlchemy Core tables, for SQLite and PostgreSQL alike.

Alembic revisions under storage/migrations build exactly this; a test compares
the two so they cannot drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

__all__ = ["metadata"]


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both databases.

    SQLite has no time zones and hands back naive values; naive datetimes are
    banned in this codebase, so the conversion lives here, once.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return as_utc(value)


def as_utc(value: Any) -> datetime | None:
    """A stored timestamp (SQLite text or a naive or aware datetime) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def _created() -> sa.Column[datetime]:
    return sa.Column("created_at", UTCDateTime(), nullable=False)


inboxes = sa.Table(
    "inboxes",
    metadata,
    _id(),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("address", sa.String(320), nullable=False),  # email address, phone, page id…
    sa.Column("config", JSON, nullable=False, default=dict),
    _created(),
    sa.UniqueConstraint("channel", "address"),
)

users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=True),
    _created(),
    sa.Column("phone", sa.String(32), nullable=True),  # E.164, rung for inbound calls
    sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.false()),
    # False: the user sees only the inboxes of their teams (queries/scope.py); admins see all.
    sa.Column("all_inboxes", sa.Boolean(), nullable=False, server_default=sa.true()),
    # Set: the user can neither sign in nor use a token; sessions end at once.
    sa.Column("deactivated_at", UTCDateTime(), nullable=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _id(),
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    _created(),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

customers = sa.Table(
    "customers",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=True),
    # A merged customer keeps its row so the merge can be undone.
    sa.Column("merged_into_id", ID, sa.ForeignKey("customers.id"), nullable=True),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # Agent-editable facts ("plan": "pro"): string keys and values, bounded by the action.
    sa.Column("attributes", JSON, nullable=False, default=dict, server_default="{}"),
)

identities = sa.Table(
    "identities",
    metadata,
    _id(),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(320), nullable=False),
    sa.Column("verified", sa.Boolean(), nullable=False),
    _created(),
    sa.UniqueConstraint("kind", "value"),
)

merge_suggestions = sa.Table(
    "merge_suggestions",
    metadata,
    _id(),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("other_customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("identity", sa.String(340), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | merged | dismissed
    _created(),
)

customer_merges = sa.Table(
    "customer_merges",
    metadata,
    _id(),
    sa.Column("source_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("target_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("moved", JSON, nullable=False),  # the rows moved, so an unmerge moves exactly them
    sa.Column("actor", sa.String(200), nullable=False),
    _created(),
    sa.Column("undone_at", UTCDateTime(), nullable=True),
)

conversations = sa.Table(
    "conversations",
    metadata,
    _id(),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False, default="normal"),
    sa.Column("category", sa.String(64), nullable=True),
    sa.Column("assignee_id", ID, sa.ForeignKey("users.id"), nullable=True, index=True),
    sa.Column("team", sa.String(64), nullable=True),
    sa.Column("escalation_level", sa.SmallInteger(), nullable=False, default=1),
    sa.Column("subject", sa.String(500), nullable=True),
    sa.Column("subject_key", sa.String(500), nullable=False, default=""),
    sa.Column("last_inbound_channel", sa.String(16), nullable=True),
    sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
    sa.Column("last_activity_at", UTCDateTime(), nullable=False),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # Assigned to a team (its view in the workspace); `team` above is the unused 0001 text.
    sa.Column("team_id", ID, sa.ForeignKey("teams.id"), nullable=True, index=True),
    sa.Column("snoozed_until", UTCDateTime(), nullable=True),  # status snoozed: wakes then
    # The oldest customer message no agent has answered yet; None when nobody is waiting.
    sa.Column("waiting_since", UTCDateTime(), nullable=True),
    # When the waiting customer is owed a first answer (core/sla.py); None: nobody waits.
    sa.Column("first_response_due_at", UTCDateTime(), nullable=True),
    # The SLA clocks (core/sla.py, sla_policies): a customer's message after an agent's
    # answer is owed a next response; the conversation is owed a resolution from its start
    # (or reopening). None: the clock is not running.
    sa.Column("first_response_at", UTCDateTime(), nullable=True),  # an agent's first answer
    sa.Column("next_response_due_at", UTCDateTime(), nullable=True),
    sa.Column("resolution_due_at", UTCDateTime(), nullable=True),
    # Pending on the customer stops the clocks: the due times above stay as they were at
    # paused_at and move on by what was left when the conversation leaves pending.
    sa.Column("paused_at", UTCDateTime(), nullable=True),
    sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default="0"),  # in all
    # For time_passed rules (hours in status, hours since the agent): when the status
    # last changed (None: not since it was created) and an agent's last public reply.
    sa.Column("status_changed_at", UTCDateTime(), nullable=True),
    sa.Column("last_agent_at", UTCDateTime(), nullable=True),
    sa.Index(None, "customer_id", "last_activity_at"),
    sa.Index(None, "status", "last_activity_at"),
    sa.Index(None, "status", "waiting_since"),
    sa.Index(None, "status", "team_id", "assignee_id", "inbox_id"),  # the inbox's counts
    sa.Index(None, "status", "first_response_due_at"),
    sa.Index(None, "status", "next_response_due_at"),
    sa.Index(None, "status", "resolution_due_at"),
    sa.Index(None, "status", "status_changed_at"),  # the time_passed sweep's candidates
    sa.Index(None, "status", "last_agent_at"),
    sa.Index(None, "status", "last_inbound_at"),
)

# A response target running on a conversation (core/sla_clock.py): one row per
# clock kind while it runs, gone when it stops (answered, resolved, merged away).
# Its warning and breach timers are jobs; a timer that fires acts only if the row
# still holds the due time it was scheduled for.
sla_clocks = sa.Table(
    "sla_clocks",
    metadata,
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(32), primary_key=True),  # first_response | next_response | …
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("warn_at", UTCDateTime(), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),  # running | warning | breached
    sa.Column("warned_at", UTCDateTime(), nullable=True),
    sa.Column("breached_at", UTCDateTime(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

conversation_tags = sa.Table(
    "conversation_tags",
    metadata,
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("tag", sa.String(50), primary_key=True, index=True),
)

# How far each agent has read each conversation: the inbox's unread marker.
conversation_reads = sa.Table(
    "conversation_reads",
    metadata,
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("read_at", UTCDateTime(), nullable=False),
)

messages = sa.Table(
    "messages",
    metadata,
    _id(),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), nullable=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("author_type", sa.String(16), nullable=False),
    sa.Column("author_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("full_text", sa.Text(), nullable=True),
    sa.Column("html", sa.Text(), nullable=True),
    # email Message-ID, Twilio MessageSid, wamid…: what threading and status callbacks match on
    sa.Column("provider_message_id", sa.String(500), nullable=True, index=True),
    sa.Column("recipient", sa.String(340), nullable=True),  # outbound: the identity sent to
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("meta", JSON, nullable=False, default=dict),
    _created(),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Index(None, "conversation_id", "id"),
    sa.Index(None, "customer_id", "id"),
)

attachments = sa.Table(
    "attachments",
    metadata,
    _id(),
    sa.Column(
        "message_id",
        ID,
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("filename", sa.String(500), nullable=False),
    sa.Column("content_type", sa.String(200), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("content_id", sa.String(500), nullable=True),
    sa.Column("inline", sa.Boolean(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary(), nullable=True),  # None when stored on disk by sha256
)

timeline_entries = sa.Table(
    "timeline_entries",
    metadata,
    _id(),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("data", JSON, nullable=False, default=dict),
    _created(),
    sa.Index(None, "customer_id", "id"),
    sa.Index(None, "conversation_id", "id"),
    sa.Index(None, "message_id"),
)

inbound_receipts = sa.Table(
    "inbound_receipts",
    metadata,
    _id(),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),  # which parser reads the payload
    sa.Column("provider_message_id", sa.String(500), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # processed | ignored | quarantined
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    # A payload past bus.PROCESS_BYTES lives in the file store (storage/files.py)
    # under this SHA-256, and ``payload`` is empty: written into the row, one
    # 36 MiB mail held up the writer, and every message queued behind it, 150 ms.
    sa.Column("payload_file", sa.String(64), nullable=True),
    sa.Column("context", JSON, nullable=False, default=dict),  # envelope, headers, URL
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("processed_at", UTCDateTime(), nullable=True),
    sa.Column("replays", sa.Integer(), nullable=False, default=0),
    sa.UniqueConstraint("inbox_id", "provider_message_id"),
    sa.Index(None, "status", "id"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    _id(),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # queued | running | done | failed
    sa.Column("run_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer(), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    _created(),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index(None, "status", "run_at"),
)

mailbox_state = sa.Table(
    "mailbox_state",
    metadata,
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), primary_key=True),
    sa.Column("folder", sa.String(200), primary_key=True),
    sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
    sa.Column("last_uid", sa.BigInteger(), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("data", JSON, nullable=False, default=dict),
    _created(),
)


calls = sa.Table(
    "calls",
    metadata,
    _id(),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), nullable=True),  # None: logged by hand
    sa.Column("provider_call_id", sa.String(64), nullable=False),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("answered", sa.Boolean(), nullable=True),
    sa.Column("duration_seconds", sa.Integer(), nullable=True),
    sa.Column("recording_url", sa.Text(), nullable=True),
    sa.Column("recording_seconds", sa.Integer(), nullable=True),
    sa.Column("transcription", sa.Text(), nullable=True),
    sa.Column("voicemail", sa.Boolean(), nullable=False),
    sa.Column("notes", sa.Text(), nullable=True),  # agents logging a call by hand
    sa.Column("logged_by", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("timeline_entry_id", ID, sa.ForeignKey("timeline_entries.id"), nullable=True),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("inbox_id", "provider_call_id"),
)

tasks = sa.Table(
    "tasks",
    metadata,
    _id(),
    sa.Column("kind", sa.String(32), nullable=False),  # callback | …
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False, index=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("call_id", ID, sa.ForeignKey("calls.id"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # open | done | cancelled
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("assignee_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("data", JSON, nullable=False, default=dict),
    _created(),
    sa.Column("done_at", UTCDateTime(), nullable=True),
    sa.Index(None, "status", "due_at"),
)

sandbox_outbox = sa.Table(
    "sandbox_outbox",
    metadata,
    _id(),
    sa.Column("provider", sa.String(32), nullable=False),  # twilio | meta | telegram | email
    sa.Column("recipient", sa.String(340), nullable=False),
    sa.Column("provider_message_id", sa.String(200), nullable=False, unique=True),
    sa.Column("request", JSON, nullable=False),  # what the provider's API received
    sa.Column("text", sa.Text(), nullable=True),
    _created(),
    sa.Index(None, "recipient", "id"),
)

# Teams scope users to inboxes: a restricted user sees the conversations of their
# teams' inboxes (queries/scope.py), and the agent workspace's team views build on them.
teams = sa.Table(
    "teams",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    _created(),
)

team_members = sa.Table(
    "team_members",
    metadata,
    sa.Column("team_id", ID, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)

team_inboxes = sa.Table(
    "team_inboxes",
    metadata,
    sa.Column("team_id", ID, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "inbox_id",
        ID,
        sa.ForeignKey("inboxes.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

# A signed-in browser. The cookie holds a random id; only its hash is stored, so
# a database leak hands out no sessions. Deleting the row ends every copy.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column(
        "user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("csrf_hash", sa.String(64), nullable=False),  # the one CSRF token it accepts
    _created(),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

# Failed sign-ins, per account and per client address: the login throttle counts them.
login_failures = sa.Table(
    "login_failures",
    metadata,
    _id(),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    _created(),
    sa.Index(None, "email", "created_at"),
    sa.Index(None, "client", "created_at"),
)

# The response and resolution targets per channel and priority (core/sla.py), seeded by
# migration 0014 with the norms of the issue and edited by admins. No row: no clock.
sla_policies = sa.Table(
    "sla_policies",
    metadata,
    _id(),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False),  # low | normal | high | urgent
    sa.Column("kind", sa.String(16), nullable=False),  # first_response | next_response | …
    sa.Column("seconds", sa.Integer(), nullable=False),
    sa.Column("business", sa.Boolean(), nullable=False),  # open hours, or the wall clock
    sa.Column("warn_percent", sa.SmallInteger(), nullable=False, server_default="80"),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.UniqueConstraint("channel", "priority", "kind"),
)

# The business profile admins edit under Settings: one row, id 1, or none yet
# (then queries/profile.py answers with the THREADLINE_BUSINESS_* settings).
business_profile = sa.Table(
    "business_profile",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("email_signature", sa.Text(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.CheckConstraint("id = 1", name="one_row"),
)

# Live chat (the widget, docs/widget.md). A visitor is one browser's chat session on
# one chat inbox. ``key`` is public: it is the value of the visitor's ``chat:`` identity.
# The session token the widget keeps in localStorage is stored as a hash only.
chat_visitors = sa.Table(
    "chat_visitors",
    metadata,
    _id(),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.String(32), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    # Set by the visitor's first message (the customer the chat identity resolved to).
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=True, index=True),
    # The conversation the widget shows: a thread hint for the visitor's next message.
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),  # claimed, for follow-up by email
    sa.Column("external_id", sa.String(255), nullable=True),  # from a signed identity token
    sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    # The newest seq given to one of this visitor's events, and how far each side has read.
    sa.Column("last_seq", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("visitor_read_seq", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("agent_read_seq", sa.Integer(), nullable=False, server_default="0"),
    # Refreshed by the visitor's frames and the widget's keep-alive while a page
    # shows the chat: how the follow-up job tells that the visitor has left.
    sa.Column("last_seen_at", UTCDateTime(), nullable=True),
    _created(),
    # The newest event already sent by email (follow-up mail): never mailed twice.
    sa.Column("mailed_seq", sa.Integer(), nullable=False, server_default="0"),
    # When the last transcript mail was asked for (one per 10 minutes).
    sa.Column("transcript_at", UTCDateTime(), nullable=True),
    # The page origin the visitor last chatted from: the follow-up mail links back to it.
    sa.Column("origin", sa.String(300), nullable=True),
)

# What a visitor's widget shows, in the order it must show it: seq is per visitor,
# given out under the visitor row's lock, so it is also commit order. A reconnecting
# widget asks for every event after the last seq it holds.
chat_events = sa.Table(
    "chat_events",
    metadata,
    sa.Column(
        "visitor_id",
        ID,
        sa.ForeignKey("chat_visitors.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), nullable=False),  # message | resolved | csat
    sa.Column(
        "message_id",
        ID,
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column("client_id", sa.String(64), nullable=True),  # the widget's id for what it sent
    sa.Column("data", JSON, nullable=False, default=dict),
    _created(),
)

# Routing rules (core/rules.py; docs/rules.md). Every edit is a new version, kept
# in rule_versions, so a timeline entry can name the version that ran; `rules`
# holds the current one. A deleted rule keeps its row (deleted_at) for the same reason.
rules = sa.Table(
    "rules",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    # events, conditions, actions and stop, as parse_rule reads them
    sa.Column("definition", JSON, nullable=False),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("deleted_at", UTCDateTime(), nullable=True),
    sa.Index(None, "deleted_at", "position"),
)

rule_versions = sa.Table(
    "rule_versions",
    metadata,
    sa.Column("rule_id", ID, sa.ForeignKey("rules.id"), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("definition", JSON, nullable=False),
    _created(),
    sa.Column("created_by", ID, sa.ForeignKey("users.id"), nullable=True),
)

# A time_passed rule's last firing on a conversation (actions/rule_firings.py): it
# fires again only once the conversation changed after this (a message, a status).
rule_firings = sa.Table(
    "rule_firings",
    metadata,
    sa.Column("rule_id", ID, sa.ForeignKey("rules.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("fired_at", UTCDateTime(), nullable=False),
)

# Triage (core/triage.py): one row per decision, made on an inbound message or by an
# agent's correction; a conversation's latest row is its decision. Rows are only
# added, never changed, so two messages of one conversation never contend for a row,
# and each correction keeps what it corrected (``changes``: field -> {from, to}):
# the material for tuning the lexicon.
triage_decisions = sa.Table(
    "triage_decisions",
    metadata,
    _id(),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False),
    # the message it was made on (a correction: the one the corrected decision was)
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=True, index=True),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("urgent", sa.Boolean(), nullable=False),
    sa.Column("sensitive", sa.Boolean(), nullable=False),
    sa.Column("recommended_channel", sa.String(16), nullable=True),
    sa.Column("reasons", JSON, nullable=False, default=list),
    # The category is an agent's (corrected here or earlier): later triage keeps it.
    sa.Column("category_by_agent", sa.Boolean(), nullable=False, server_default=sa.false()),
    # A correction: who made it, which decision it corrects, and what changed.
    sa.Column("corrected_by_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("corrects_id", ID, sa.ForeignKey("triage_decisions.id"), nullable=True),
    sa.Column("changes", JSON, nullable=True),
    _created(),
    sa.Index(None, "conversation_id", "id"),
)

# The triage lexicon admins edit under Settings (core/lexicon.py's mapping, checked by
# parse_lexicon before it is stored): each save is a new version, the latest is in force,
# none means the lexicon the package ships.
triage_lexicons = sa.Table(
    "triage_lexicons",
    metadata,
    _id(),
    sa.Column("data", JSON, nullable=False),
    sa.Column("created_by_id", ID, sa.ForeignKey("users.id"), nullable=True),
    _created(),
)

# Assignment (core/assignment.py): what each agent takes, and how each inbox hands out.
# An agent without a row takes the default capacity, has no skills and no shifts
# (always on shift); an inbox without a row is assigned by hand.
agent_assignment = sa.Table(
    "agent_assignment",
    metadata,
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("capacity", JSON, nullable=False, default=dict),  # {"chat": 3, "email": 20}
    sa.Column("skills", JSON, nullable=False, default=list),  # ["billing", "german"]
    sa.Column("shifts", JSON, nullable=True),  # core/shifts.py's schedule; None: always
    sa.Column("last_assigned_at", UTCDateTime(), nullable=True),  # round robin's order
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

inbox_assignment = sa.Table(
    "inbox_assignment",
    metadata,
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("strategy", sa.String(16), nullable=False),  # manual | round_robin | load_balanced
    sa.Column("sticky", sa.Boolean(), nullable=False, default=True),
    sa.Column("skills", JSON, nullable=False, default=list),  # every agent must have these
    sa.Column("level2_team_id", ID, sa.ForeignKey("teams.id", ondelete="SET NULL"), nullable=True),
    sa.Column("batch_times", JSON, nullable=False, default=list),  # ["09:00", "13:00"]: email
    sa.Column("batch_timezone", sa.String(64), nullable=False, default="UTC"),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# Conversations waiting for an agent: due now, or at the next email batch. The
# assign job and the sweep (jobs/assignment.py) take them; the reason says why
# nobody took them yet, for the inbox and the timeline.
assignment_queue = sa.Table(
    "assignment_queue",
    metadata,
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("due_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("tried_at", UTCDateTime(), nullable=True),
    _created(),
)

# Account questions from social DMs redirected to a verified channel (core/redirect.py,
# actions/redirects.py): one row per redirect reply. Its link's token signs the id and
# the expiry; the email proof's one-time code is kept only as its SHA-256.
redirects = sa.Table(
    "redirects",
    metadata,
    _id(),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),  # the DM's
    sa.Column("identity", sa.String(300), nullable=False),  # the social identity, kind:value
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id", ondelete="SET NULL"), nullable=True),
    # the DM that asked: one redirect per message, whatever runs the job twice
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=False, unique=True),
    sa.Column("reply_id", ID, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    # continuing by email: the address typed, its code's hash, how many mails went
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("email_code_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("email_expires_at", UTCDateTime(), nullable=True),
    sa.Column("email_sent_at", UTCDateTime(), nullable=True),
    sa.Column("emails_sent", sa.Integer(), nullable=False, default=0),
    # continuing in the chat: the widget visitor bound to it
    sa.Column(
        "visitor_id",
        ID,
        sa.ForeignKey("chat_visitors.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    sa.Column("proved_at", UTCDateTime(), nullable=True),
    sa.Column("proved_by", sa.String(16), nullable=True),  # email | chat
    sa.Column("proved_customer_id", ID, sa.ForeignKey("customers.id"), nullable=True),
    _created(),
    sa.Index(None, "conversation_id", "created_at"),
)

# Automatic replies sent (or decided against) per conversation: at most one off-hours
# acknowledgement per conversation per closed period, the period named by the opening
# that ends it (core/off_hours.py). The unique key makes a job that runs twice send once.
auto_replies = sa.Table(
    "auto_replies",
    metadata,
    _id(),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # off_hours
    sa.Column("period", UTCDateTime(), nullable=False),  # when the closed period ends
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=True),  # None: not sent
    sa.Column("reason", sa.String(200), nullable=True),  # why it was not sent
    _created(),
    sa.UniqueConstraint("conversation_id", "kind", "period"),
    sa.Index(None, "kind", "period"),
)
