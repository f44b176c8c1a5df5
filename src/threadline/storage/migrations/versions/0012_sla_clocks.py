"""sla clocks: the response targets running on conversations, for their timers

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables
from threadline.core.sla_clock import schedule

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

WHEN = threadline.storage.tables.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sla_clocks",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("warn_at", WHEN, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("warned_at", WHEN, nullable=True),
        sa.Column("breached_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_sla_clocks_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "kind", name=op.f("pk_sla_clocks")),
    )
    _start_waiting_clocks()


# The tables as this revision knows them (the live ones in storage/tables/ may
# change after it).
_conversations = sa.table(
    "conversations",
    sa.column("id", ID),
    sa.column("status", sa.String()),
    sa.column("waiting_since", WHEN),
    sa.column("first_response_due_at", WHEN),
)
_clocks = sa.table(
    "sla_clocks",
    sa.column("conversation_id", ID),
    sa.column("kind", sa.String()),
    sa.column("started_at", WHEN),
    sa.column("due_at", WHEN),
    sa.column("warn_at", WHEN),
    sa.column("state", sa.String()),
    sa.column("updated_at", WHEN),
)
_jobs = sa.table(
    "jobs",
    sa.column("kind", sa.String()),
    sa.column("payload", threadline.storage.tables.JSON),
    sa.column("status", sa.String()),
    sa.column("run_at", WHEN),
    sa.column("attempts", sa.Integer()),
    sa.column("max_attempts", sa.Integer()),
    sa.column("idempotency_key", sa.String()),
    sa.column("created_at", WHEN),
)


def _start_waiting_clocks() -> None:
    """Customers already waiting get their first-response clock and its timers, as
    actions/sla_clock.py would have given them (one overdue is breached at once)."""
    conn = op.get_bind()
    now = datetime.now(UTC)
    waiting = conn.execute(
        sa.select(
            _conversations.c.id,
            _conversations.c.waiting_since,
            _conversations.c.first_response_due_at,
        ).where(
            _conversations.c.first_response_due_at.is_not(None),
            _conversations.c.status != "resolved",
        )
    ).all()
    for row in waiting:
        due = threadline.storage.tables.as_utc(row.first_response_due_at)
        start = threadline.storage.tables.as_utc(row.waiting_since) or now
        assert due is not None
        plan = schedule(start, due)
        conn.execute(
            _clocks.insert().values(
                conversation_id=row.id,
                kind="first_response",
                started_at=start,
                due_at=due,
                warn_at=plan.warn_at,
                state="running",
                updated_at=now,
            )
        )
        for step, at in (("warn", plan.warn_at), ("breach", due)):
            if at is None:
                continue
            conn.execute(
                _jobs.insert().values(
                    kind="sla_timer",
                    payload={
                        "conversation_id": row.id,
                        "clock": "first_response",
                        "due_at": due.isoformat(),
                        "step": step,
                    },
                    status="queued",
                    run_at=at,
                    attempts=0,
                    max_attempts=5,
                    idempotency_key=f"sla:{row.id}:first_response:{due.isoformat()}:{step}",
                    created_at=now,
                )
            )


def downgrade() -> None:
    # Timers of clocks that no longer exist; gone with their keys, so an upgrade
    # after this schedules them afresh.
    op.execute(sa.text("DELETE FROM jobs WHERE kind = 'sla_timer'"))
    op.drop_table("sla_clocks")
