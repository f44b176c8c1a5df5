"""Agents and admins: accounts, sign-in sessions and throttling, API tokens, teams."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, UTCDateTime, _created, _id, metadata

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
