"""Account questions on social DMs, redirected to a verified channel (docs/redirects.md).

``queue_redirect`` runs in the inbound message's unit of work: a sensitive DM
queues one ``redirect`` job (keyed by the message), so the reply goes out after
commit and never twice. ``send_redirect`` (the job's) decides with
core/redirect.py, stores the redirect and its expiring link, and answers on the
DM's channel through ``send_reply``, as a rule's reply goes.

The link proves only that its holder reads the DM. Proving the customer is
someone on file takes a verified widget identity (the business's signed token)
or a confirmed email address; ``prove`` then links the social identity to that
customer: a merge (reversible, on the timeline) when the proof names someone
else, the verified identity added when it names nobody yet.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from threadline.actions.chat_mail import TooSoon, followup_inbox
from threadline.actions.chat_missed import NOTIFY_JOB
from threadline.actions.config import ActionConfig
from threadline.actions.customers import add_identity, merge_customers
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.replies import send_reply
from threadline.actions.timeline import add_entry
from threadline.core.events import ConversationChanged
from threadline.core.identity import InvalidIdentity, normalize_email
from threadline.core.model import Channel, IdentityRef
from threadline.core.redirect import (
    EMAIL_EVERY,
    EMAIL_LIFETIME,
    LINK_LIFETIME,
    MAX_EMAIL_SENDS,
    SOCIAL,
    RedirectConfig,
    RedirectConfigError,
    link_token,
    parse_redirect_config,
    render_redirect,
    should_redirect,
)
from threadline.jobs.queue import enqueue
from threadline.storage.db import Tx
from threadline.storage.tables import (
    as_utc,
    audit_log,
    chat_visitors,
    customers,
    identities,
    inboxes,
    messages,
    redirects,
    triage_decisions,
)

__all__ = [
    "REDIRECT_JOB",
    "Expired",
    "Proof",
    "code_digest",
    "confirm_email",
    "continue_redirect",
    "queue_redirect",
    "request_email_proof",
    "send_redirect",
    "set_redirect_settings",
]

REDIRECT_JOB = "redirect"  # jobs/redirect.py runs it
ACTOR = "system:redirect"


class Expired(ActionError):
    """The link or the code was ours but is past its time (HTTP 410)."""


@dataclass(frozen=True, slots=True)
class Proof:
    customer_id: int  # who the social identity now belongs to
    merged: bool  # the social customer was folded into someone on file


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def queue_redirect(
    tx: Tx, *, channel: Channel, sensitive: bool, conversation_id: int, message_id: int
) -> bool:
    """A sensitive social DM queues the redirect job (which reads the inbox's
    settings and the conversation's last redirect): rare, so it costs the ingest
    of other messages nothing."""
    if channel not in SOCIAL or not sensitive:
        return False
    enqueue(
        tx,
        REDIRECT_JOB,
        {"message_id": message_id, "conversation_id": conversation_id},
        key=f"redirect:{message_id}",
    )
    return True


def _sensitive(tx: Tx, message_id: int) -> bool:
    """The message's latest decision (an agent may have corrected it since)."""
    found = tx.conn.execute(
        sa.select(triage_decisions.c.sensitive)
        .where(triage_decisions.c.message_id == message_id)
        .order_by(triage_decisions.c.id.desc())
        .limit(1)
    ).scalar()
    return bool(found)


def send_redirect(
    tx: Tx, cfg: ActionConfig, *, message_id: int, config: RedirectConfig, base_url: str
) -> str:
    """Answer the DM ``message_id`` with the redirect, if it still calls for one;
    says what it did (``sent``, ``failed``, or why not)."""
    msg = tx.conn.execute(
        sa.select(
            messages.c.conversation_id,
            messages.c.customer_id,
            messages.c.channel,
            messages.c.inbox_id,
            messages.c.meta,
        ).where(messages.c.id == message_id)
    ).first()
    if msg is None:
        return "the message is gone"
    done = sa.select(redirects.c.id).where(redirects.c.message_id == message_id)
    if tx.conn.execute(done).first() is not None:
        return "already redirected"
    last = tx.conn.execute(
        sa.select(sa.func.max(redirects.c.created_at)).where(
            redirects.c.conversation_id == msg.conversation_id
        )
    ).scalar()
    channel = Channel(msg.channel)
    ok, why = should_redirect(
        channel=channel,
        sensitive=_sensitive(tx, message_id),
        config=config,
        last_redirect_at=as_utc(last),
        now=tx.now,
    )
    if not ok:
        return why
    sender = str((msg.meta or {}).get("sender") or "")[:300]
    expires = tx.now + LINK_LIFETIME
    redirect_id: int = tx.conn.execute(
        redirects.insert().returning(redirects.c.id),
        {
            "conversation_id": msg.conversation_id,
            "customer_id": msg.customer_id,
            "identity": sender,
            "channel": channel.value,
            "inbox_id": msg.inbox_id,
            "message_id": message_id,
            "expires_at": expires,
            "emails_sent": 0,
            "created_at": tx.now,
        },
    ).scalar_one()
    link = f"{base_url.rstrip('/')}/continue/{link_token(redirect_id, expires, cfg.secret_key)}"
    name = tx.conn.execute(
        sa.select(customers.c.name).where(customers.c.id == msg.customer_id)
    ).scalar()
    data: dict[str, Any] = {"channel": channel.value, "reason": why, "redirect_id": redirect_id}
    try:
        sent = send_reply(
            tx,
            cfg,
            conversation_id=msg.conversation_id,
            author_id=None,
            text=render_redirect(config.template, link=link, name=name),
            channel=channel,
        )
    except ActionError as exc:
        data["error"] = str(exc)[:300]
    else:
        data["message_id"] = sent.message_id
        tx.conn.execute(
            redirects.update().where(redirects.c.id == redirect_id).values(reply_id=sent.message_id)
        )
    add_entry(
        tx,
        customer_id=msg.customer_id,
        conversation_id=msg.conversation_id,
        kind="redirected",
        data=data,
    )
    return "failed" if "error" in data else "sent"


def open_redirect(tx: Tx, redirect_id: int, *, lock: bool = False) -> Any:
    """The redirect a checked link names; Expired past its time (or once proved by
    someone, so a link cannot be used twice to link two people)."""
    q = sa.select(redirects).where(redirects.c.id == redirect_id)
    row = tx.conn.execute(q.with_for_update() if lock else q).first()
    if row is None:
        raise NotFound("no such link")
    if as_utc(row.expires_at) <= tx.now or row.proved_at is not None:  # type: ignore[operator]
        raise Expired("this link has expired")
    return row


def request_email_proof(
    tx: Tx, *, redirect_id: int, email: str, base_url: str, business: str | None
) -> str:
    """Mail a one-time confirmation link to ``email``; returns the address.

    At most MAX_EMAIL_SENDS per redirect, a minute apart (TooSoon). Only the code's
    hash is kept, and a new mail replaces the last one's code."""
    row = open_redirect(tx, redirect_id, lock=True)
    if len(email) > 320:
        raise ActionError("that does not look like an email address")
    try:
        address = normalize_email(email)
    except InvalidIdentity as exc:
        raise ActionError("that does not look like an email address") from exc
    if row.emails_sent >= MAX_EMAIL_SENDS:
        raise TooSoon("no more confirmation mails for this link", EMAIL_EVERY.total_seconds())
    if row.email_sent_at is not None:
        wait = (as_utc(row.email_sent_at) + EMAIL_EVERY - tx.now).total_seconds()  # type: ignore[operator]
        if wait > 0:
            raise TooSoon("a confirmation mail was sent a moment ago", wait)
    sender = followup_inbox(tx, 0)
    if sender is None:
        raise ActionError("continuing by email is not set up here")
    code = secrets.token_urlsafe(24)
    tx.conn.execute(
        redirects.update()
        .where(redirects.c.id == redirect_id)
        .values(
            email=address,
            email_code_hash=code_digest(code),
            email_expires_at=tx.now + EMAIL_LIFETIME,
            email_sent_at=tx.now,
            emails_sent=row.emails_sent + 1,
        )
    )
    name = business or str(sender.name)
    link = f"{base_url.rstrip('/')}/continue/confirm/{code}"
    enqueue(
        tx,
        NOTIFY_JOB,
        {
            "inbox_id": sender.id,
            "to": address,
            "subject": f"Confirm your email address for {name}",
            "text": (
                f"To continue your conversation with {name}, confirm this address:\n\n"
                f"{link}\n\nThe link works once, for {int(EMAIL_LIFETIME.total_seconds() // 60)}"
                " minutes. If you did not ask for it, ignore this mail."
            ),
            "conversation_id": row.conversation_id,
        },
        key=f"redirect_email:{redirect_id}:{row.emails_sent + 1}",
    )
    add_entry(
        tx,
        customer_id=_owner(tx, row),
        conversation_id=row.conversation_id,
        kind="redirect_email_sent",
        data={"to": address, "redirect_id": redirect_id},
    )
    return address


def confirm_email(tx: Tx, cfg: ActionConfig, *, code: str) -> Proof:
    """The customer opened the mailed link: the address is theirs. One use."""
    if not 20 <= len(code) <= 64:
        raise NotFound("no such link")
    row = tx.conn.execute(
        sa.select(redirects)
        .where(redirects.c.email_code_hash == code_digest(code))
        .with_for_update()
    ).first()
    if row is None or row.email is None:
        raise NotFound("no such link")
    tx.conn.execute(redirects.update().where(redirects.c.id == row.id).values(email_code_hash=None))
    if row.proved_at is not None or as_utc(row.email_expires_at) <= tx.now:  # type: ignore[operator]
        raise Expired("this link has expired")
    proof = prove(tx, row, [IdentityRef("email", row.email, True)], by="email")
    # The conversation goes on by email: a mail of it, whose Reply-To threads back.
    # Without an email inbox to send from, the proof stands and agents answer as they can.
    with contextlib.suppress(ActionError):
        send_reply(
            tx,
            cfg,
            conversation_id=row.conversation_id,
            author_id=None,
            text=(
                "Thank you: your email address is confirmed. Reply to this email to "
                "continue; we will answer here."
            ),
            channel=Channel.EMAIL,
        )
    return proof


def continue_redirect(tx: Tx, *, redirect_id: int | None, visitor_id: int) -> Proof | None:
    """A widget session opened with a redirect link (``redirect_id``), or a visitor
    bound to one before who may have signed in since (None: look it up).

    The visitor is bound to the redirect; once the business's signed identity
    verifies them, that proves who they are: the social identity is linked to
    them and their chat joins the redirected conversation. A spent link binds
    nothing (the chat goes on as any chat)."""
    if redirect_id is not None:
        try:
            row = open_redirect(tx, redirect_id, lock=True)
        except ActionError:
            return None
        tx.conn.execute(
            redirects.update().where(redirects.c.id == redirect_id).values(visitor_id=visitor_id)
        )
    else:
        row = tx.conn.execute(
            sa.select(redirects)
            .where(
                redirects.c.visitor_id == visitor_id,
                redirects.c.proved_at.is_(None),
                redirects.c.expires_at > tx.now,
            )
            .order_by(redirects.c.id.desc())
            .limit(1)
            .with_for_update()
        ).first()
        if row is None:
            return None
    visitor = tx.conn.execute(
        sa.select(
            chat_visitors.c.verified, chat_visitors.c.external_id, chat_visitors.c.email
        ).where(chat_visitors.c.id == visitor_id)
    ).first()
    if visitor is None or not visitor.verified or not visitor.external_id or not visitor.email:
        return None  # bound, waiting for the visitor to sign in on the business's site
    proof = prove(
        tx,
        row,
        [
            IdentityRef("external", str(visitor.external_id), True),
            IdentityRef("email", str(visitor.email), True),
        ],
        by="chat",
    )
    # The visitor's next message continues the conversation: the session's hint
    # comes from the conversation's own customer now (DESIGN.md §3, step 4).
    tx.conn.execute(
        chat_visitors.update()
        .where(chat_visitors.c.id == visitor_id)
        .values(conversation_id=row.conversation_id)
    )
    return proof


def _owner(tx: Tx, row: Any) -> int:
    """Who holds the redirect's social identity now (it follows merges)."""
    kind, _, value = str(row.identity).partition(":")
    found = tx.conn.execute(
        sa.select(identities.c.customer_id).where(
            identities.c.kind == kind, identities.c.value == value
        )
    ).scalar()
    return int(found) if found is not None else int(row.customer_id)


def prove(tx: Tx, row: Any, refs: Sequence[IdentityRef], *, by: str) -> Proof:
    """The customer proved ``refs`` (verified identities): link the social identity
    to whoever holds them. Customers on file are merged (the oldest keeps the
    record, as core.identity.resolve does); identities nobody holds are added."""
    social = _owner(tx, row)
    owners: dict[tuple[str, str], int] = {}
    for ref in refs:
        found = tx.conn.execute(
            sa.select(identities.c.customer_id).where(
                identities.c.kind == ref.kind, identities.c.value == ref.value
            )
        ).scalar()
        if found is not None:
            owners[ref.key] = int(found)
    others = sorted({o for o in owners.values() if o != social})
    target = others[0] if others else social
    for source in sorted({social, *others} - {target}):
        merge_customers(tx, source_id=source, target_id=target, actor=ACTOR)
    for ref in refs:
        if ref.key not in owners:
            add_identity(tx, target, ref)
        else:
            # a claim of the customer's own (a typed email) is proved now
            tx.conn.execute(
                identities.update()
                .where(identities.c.kind == ref.kind, identities.c.value == ref.value)
                .values(verified=True)
            )
    tx.conn.execute(
        redirects.update()
        .where(redirects.c.id == row.id)
        .values(proved_at=tx.now, proved_by=by, proved_customer_id=target)
    )
    add_entry(
        tx,
        customer_id=target,
        conversation_id=row.conversation_id,
        kind="redirect_proved",
        data={
            "by": by,
            "identity": row.identity,
            "proved": [str(r) for r in refs],
            "merged": target != social,
        },
    )
    tx.emit(ConversationChanged(row.conversation_id, ("customer",)))
    return Proof(target, target != social)


def set_redirect_settings(
    tx: Tx, inbox_id: int, raw: Mapping[str, Any], *, actor: str
) -> RedirectConfig:
    """Replace a social inbox's ``redirect`` settings (checked by core/redirect.py;
    RedirectConfigError becomes ActionError). Audited with the settings, which
    hold no secret."""
    row = tx.conn.execute(
        sa.select(inboxes.c.channel, inboxes.c.config).where(inboxes.c.id == inbox_id)
    ).first()
    if row is None or Channel(row.channel) not in SOCIAL:
        raise NotFound(f"no social inbox {inbox_id}")
    try:
        parsed = parse_redirect_config(raw)
    except RedirectConfigError as exc:
        raise ActionError(str(exc)) from exc
    # Only ``redirect`` changes: the sealed secrets beside it stay as they are.
    merged = {**(row.config or {}), "redirect": parsed.as_config()}
    tx.conn.execute(inboxes.update().where(inboxes.c.id == inbox_id).values(config=merged))
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": actor,
            "action": "inbox.redirect",
            "subject": f"inbox:{inbox_id}",
            "data": parsed.as_config(),
            "created_at": tx.now,
        },
    )
    return parsed
