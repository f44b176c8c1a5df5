"""The schema, as SQLAlchemy Core tables, for SQLite and PostgreSQL alike.

Alembic revisions under storage/migrations build exactly this; a test compares
the two so they cannot drift.

The tables are defined by area in private modules, all on the one ``metadata``
of ``_types``: import them from here. Importing this package defines every
table, so ``metadata`` is whole before anyone uses it. The modules are private
also because several share a name with a table (``calls``, ``rules``): a public
module would make ``import threadline.storage.tables.calls`` give the table.
"""

from __future__ import annotations

from threadline.storage.tables._assignment import (
    agent_assignment,
    assignment_queue,
    inbox_assignment,
)
from threadline.storage.tables._calls import calls, tasks
from threadline.storage.tables._chat import chat_events, chat_visitors
from threadline.storage.tables._conversations import (
    attachments,
    conversation_reads,
    conversation_tags,
    conversations,
    messages,
    timeline_entries,
)
from threadline.storage.tables._customers import (
    customer_merges,
    customers,
    identities,
    merge_suggestions,
)
from threadline.storage.tables._desk import audit_log, business_profile, jobs
from threadline.storage.tables._inboxes import (
    inbound_receipts,
    inboxes,
    mailbox_state,
    sandbox_outbox,
)
from threadline.storage.tables._people import (
    api_tokens,
    login_failures,
    sessions,
    team_inboxes,
    team_members,
    teams,
    users,
)
from threadline.storage.tables._replies import auto_replies, redirects
from threadline.storage.tables._rules import rule_firings, rule_versions, rules
from threadline.storage.tables._sla import sla_clocks, sla_policies
from threadline.storage.tables._triage import triage_decisions, triage_lexicons
from threadline.storage.tables._types import ID, JSON, UTCDateTime, as_utc, metadata

__all__ = [
    "ID",
    "JSON",
    "UTCDateTime",
    "agent_assignment",
    "api_tokens",
    "as_utc",
    "assignment_queue",
    "attachments",
    "audit_log",
    "auto_replies",
    "business_profile",
    "calls",
    "chat_events",
    "chat_visitors",
    "conversation_reads",
    "conversation_tags",
    "conversations",
    "customer_merges",
    "customers",
    "identities",
    "inbound_receipts",
    "inbox_assignment",
    "inboxes",
    "jobs",
    "login_failures",
    "mailbox_state",
    "merge_suggestions",
    "messages",
    "metadata",
    "redirects",
    "rule_firings",
    "rule_versions",
    "rules",
    "sandbox_outbox",
    "sessions",
    "sla_clocks",
    "sla_policies",
    "tasks",
    "team_inboxes",
    "team_members",
    "teams",
    "timeline_entries",
    "triage_decisions",
    "triage_lexicons",
    "users",
]
