"""receive_inbound: the one path every channel's messages take into Threadline.

Runs inside one transaction (a savepoint of a group commit on SQLite): the
customer, the conversation, the message, its search index entry and the
timeline are all written before the sender is acknowledged, or none of them is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from threadline.actions.assignment import request_assignment
from threadline.actions.attachments import store_attachments
from threadline.actions.chat_hooks import on_customer_message, on_visitor_message
from threadline.actions.config import ActionConfig
from threadline.actions.customers import merge_customers, suggest_merge
from threadline.actions.off_hours import queue_off_hours_reply
from threadline.actions.redirects import queue_redirect
from threadline.actions.rule_queue import enqueue_rules
from threadline.actions.sla import start_clocks
from threadline.actions.sla_clock import sync_clocks
from threadline.actions.timeline import add_entry
from threadline.actions.triage import triage_message
from threadline.core import identity
from threadline.core.continuity import (
    Candidate,
    Decision,
    Hinted,
    HintKind,
    normalize_subject,
    pick_conversation,
)
from threadline.core.events import MessageReceived
from threadline.core.model import (
    Channel,
    ConversationStatus,
    IdentityRef,
    InboundMessage,
    ThreadHints,
)
from threadline.core.tokens import verify_id
from threadline.storage import inbound as store
from threadline.storage.db import Tx
from threadline.storage.tables import (
    customers,
    identities,
    merge_suggestions,
    messages,
)

__all__ = ["InboundResult", "Placement", "place", "receive_inbound", "resolve_customer"]


@dataclass(frozen=True, slots=True)
class InboundResult:
    message_id: int
    conversation_id: int
    customer_id: int
    new_conversation: bool
    decision: str


def receive_inbound(tx: Tx, cfg: ActionConfig, inbox_id: int, msg: InboundMessage) -> InboundResult:
    customer_id = resolve_customer(tx, msg.sender, msg.also, msg.sender_name)
    placed = place(
        tx,
        cfg,
        inbox_id,
        customer_id,
        channel=msg.channel,
        hints=msg.hints,
        sender_verified=msg.sender.verified,
    )
    message_id = _append_message(tx, cfg, inbox_id, customer_id, placed.conversation_id, msg)
    subject = msg.hints.subject if msg.channel is Channel.EMAIL else None
    decision = triage_message(
        tx,
        cfg,
        conversation_id=placed.conversation_id,
        customer_id=placed.customer_id,
        message_id=message_id,
        text=f"{subject}\n{msg.text}" if subject else msg.text,
        channel=msg.channel,
        attachments=sum(1 for a in msg.attachments if not a.inline),
    )
    # An account question in a DM: answered after commit with a way to a verified channel.
    queue_redirect(
        tx,
        channel=msg.channel,
        sensitive=decision.sensitive,
        conversation_id=placed.conversation_id,
        message_id=message_id,
    )
    add_entry(
        tx,
        customer_id=placed.customer_id,
        conversation_id=placed.conversation_id,
        kind="message",
        message_id=message_id,
        data={"direction": "inbound", "channel": msg.channel.value},
    )
    if msg.channel is Channel.CHAT:
        # The visitor's widget shows it as their next event, in this transaction.
        on_visitor_message(
            tx,
            cfg,
            inbox_id,
            msg,
            message_id=message_id,
            conversation_id=placed.conversation_id,
            customer_id=placed.customer_id,
        )
    else:
        # The sender's own chat, if this conversation is one (an answer by email).
        on_customer_message(tx, placed.conversation_id, customer_id, message_id)
    if placed.new:
        enqueue_rules(
            tx,
            "conversation_created",
            placed.conversation_id,
            message_id=message_id,
            key=f"rules:created:{placed.conversation_id}",
        )
    enqueue_rules(
        tx,
        "message_received",
        placed.conversation_id,
        message_id=message_id,
        key=f"rules:message:{message_id}",
    )
    # Closed now, with the reply on: one acknowledgement per closed period, sent after
    # commit by its job (actions/off_hours.py).
    queue_off_hours_reply(tx, inbox_id, placed.conversation_id, message_id, msg.channel.value)
    tx.emit(
        MessageReceived(
            message_id, placed.conversation_id, placed.customer_id, msg.channel.value, placed.new
        )
    )
    return InboundResult(
        message_id, placed.conversation_id, placed.customer_id, placed.new, placed.reason
    )


@dataclass(frozen=True, slots=True)
class Placement:
    conversation_id: int
    customer_id: int  # the conversation's customer (a CC'd colleague may be someone else)
    new: bool
    reason: str


def place(
    tx: Tx,
    cfg: ActionConfig,
    inbox_id: int,
    customer_id: int,
    *,
    channel: Channel,
    hints: ThreadHints,
    sender_verified: bool,
) -> Placement:
    """Continue or open the conversation for something the customer did on ``channel``.

    Shared by messages and calls: a missed call continues the customer's open
    conversation exactly as an SMS would.
    """
    decision, hinted_rows = _decide_conversation(
        tx, cfg, customer_id, channel, hints, sender_verified
    )
    conversation_id, previous_channel = _open_or_continue(
        tx, inbox_id, customer_id, channel, hints, decision, hinted_rows
    )
    conv_customer = (
        hinted_rows[conversation_id].customer_id if conversation_id in hinted_rows else customer_id
    )
    if decision.conversation_id is None or decision.reopen:
        # Queued for an agent in this transaction (the inbox may assign by hand).
        request_assignment(tx, conversation_id, inbox_id=inbox_id, channel=channel.value)
    if previous_channel is not None and previous_channel != channel.value:
        add_entry(
            tx,
            customer_id=conv_customer,
            conversation_id=conversation_id,
            kind="channel_switched",
            data={"from": previous_channel, "to": channel.value},
        )
    return Placement(
        conversation_id, conv_customer, decision.conversation_id is None, decision.reason
    )


# -- identity -----------------------------------------------------------------
def resolve_customer(
    tx: Tx, sender: IdentityRef, also: Sequence[IdentityRef], name: str | None
) -> int:
    """The customer behind ``sender``, created or linked as core.identity decides."""
    owners = store.identity_owners(tx, [sender, *also])
    owner = owners.get(sender.key)
    claimant: int | None = None
    unproven: frozenset[int] = frozenset()
    if owner is not None and not sender.verified:
        # Rare (a claimed address that is on file): worth two more lookups.
        claimant = _claimant(tx, sender, owner)
        if not _has_verified_identity(tx, owner):
            unproven = frozenset({owner})
    res = identity.resolve(sender, also, owners, claimant=claimant, unproven=unproven)
    customer_id = res.customer_id
    name = name[:200] if name else None  # the column's width
    if customer_id is None:
        customer_id = store.insert_customer(tx, name)
    elif name:
        store.name_customer(tx, customer_id, name)
    for ref in res.link:
        store.insert_identity(tx, customer_id, ref)
    for other in res.merge:
        merge_customers(
            tx, source_id=other, target_id=customer_id, actor="system:verified-identity"
        )
    for ref, other in res.suggest:
        suggest_merge(tx, customer_id, other, ref)
    return customer_id


def _claimant(tx: Tx, ref: IdentityRef, owner: int) -> int | None:
    """The customer an earlier identical claim of ``ref`` created: its open merge
    suggestion names it, so a claimant's messages stay together."""
    found = tx.conn.execute(
        sa.select(merge_suggestions.c.customer_id)
        .join(customers, customers.c.id == merge_suggestions.c.customer_id)
        .where(
            merge_suggestions.c.identity == str(ref),
            merge_suggestions.c.other_customer_id == owner,
            merge_suggestions.c.status == "open",
            customers.c.merged_into_id.is_(None),
        )
        .order_by(merge_suggestions.c.id)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def _has_verified_identity(tx: Tx, customer_id: int) -> bool:
    return (
        tx.conn.execute(
            sa.select(identities.c.id)
            .where(identities.c.customer_id == customer_id, identities.c.verified.is_(True))
            .limit(1)
        ).first()
        is not None
    )


# -- continuity -----------------------------------------------------------------
def _candidate(row: store.ConversationRow) -> Candidate:
    return Candidate(
        id=row.id,
        customer_id=row.customer_id,
        status=ConversationStatus(row.status),
        subject_key=row.subject_key,
        last_activity_at=row.last_activity_at,
        resolved_at=row.resolved_at,
    )


def _decide_conversation(
    tx: Tx,
    cfg: ActionConfig,
    customer_id: int,
    channel: Channel,
    hints: ThreadHints,
    sender_verified: bool,
) -> tuple[Decision, dict[int, store.ConversationRow]]:
    wanted: list[tuple[HintKind, int]] = []
    if hints.conversation_id is not None:
        wanted.append((HintKind.SESSION, hints.conversation_id))
    if hints.reply_token:
        cid = verify_id("reply", hints.reply_token, cfg.secret_key)
        if cid is not None:
            wanted.append((HintKind.REPLY_TOKEN, cid))
    if hints.message_ids:
        replied_to = tx.conn.execute(
            sa.select(messages.c.conversation_id)
            .where(messages.c.provider_message_id.in_(hints.message_ids))
            .order_by(messages.c.id.desc())
            .limit(1)
        ).scalar()
        if replied_to is not None:
            wanted.append((HintKind.MESSAGE_ID, replied_to))
    if hints.ticket_number is not None:
        wanted.append((HintKind.TICKET_NUMBER, hints.ticket_number))

    own = store.customer_conversations(tx, customer_id)
    by_id = {row.id: row for row in own}
    # A hint usually names one of the customer's own recent conversations (a widget
    # message always names its own): only the others cost a read.
    elsewhere = [cid for _, cid in wanted if cid not in by_id]
    if elsewhere:
        by_id.update((row.id, row) for row in store.conversations_by_id(tx, elsewhere))
    hinted = [Hinted(kind, _candidate(by_id[cid])) for kind, cid in wanted if cid in by_id]
    decision = pick_conversation(
        channel=channel,
        customer_id=customer_id,
        sender_verified=sender_verified,
        subject=hints.subject,
        hinted=hinted,
        candidates=[_candidate(r) for r in own],
        now=tx.now,
        policy=cfg.continuity,
    )
    return decision, by_id


def _open_or_continue(
    tx: Tx,
    inbox_id: int,
    customer_id: int,
    channel: Channel,
    hints: ThreadHints,
    decision: Decision,
    rows: dict[int, store.ConversationRow],
) -> tuple[int, str | None]:
    """Returns the conversation id and the channel of its previous inbound message."""
    if decision.conversation_id is None:
        subject = (hints.subject or "").strip()[:500] or None
        cid = store.insert_conversation(
            tx,
            customer_id=customer_id,
            inbox_id=inbox_id,
            subject=subject,
            subject_key=normalize_subject(subject),
            channel=channel.value,
            clocks=start_clocks(tx, inbox_id, channel.value, conversation_id=None),
        )
        sync_clocks(tx, cid)
        return cid, None
    row = rows[decision.conversation_id]
    previous = row.status
    clocks = start_clocks(tx, inbox_id, channel.value, conversation_id=row.id)
    store.touch_conversation(tx, row.id, channel.value, clocks)
    sync_clocks(tx, row.id)  # a wait's first message starts its timers
    if previous != ConversationStatus.OPEN.value:
        add_entry(
            tx,
            customer_id=row.customer_id,
            conversation_id=row.id,
            kind="status_changed",
            data={
                "from": previous,
                "to": "open",
                "by": "customer",
                "reason": "reopened" if decision.reopen else "customer replied",
            },
        )
    last = row.last_inbound_channel
    return row.id, (str(last) if last is not None else None)


# -- the message ------------------------------------------------------------------
def _append_message(
    tx: Tx,
    cfg: ActionConfig,
    inbox_id: int,
    customer_id: int,
    conversation_id: int,
    msg: InboundMessage,
) -> int:
    meta: dict[str, object] = dict(msg.meta)
    if msg.warnings:
        meta["warnings"] = list(msg.warnings)
    if msg.sender_name:
        meta["sender_name"] = msg.sender_name
    meta["sender"] = str(msg.sender)
    if msg.hints.message_ids:
        # kept so a reply can carry the whole References chain (RFC 5322 §3.6.4)
        meta["references"] = list(msg.hints.message_ids)
    if msg.sent_at is not None:
        meta["sent_at"] = msg.sent_at.isoformat()
    message_id = store.insert_message(
        tx,
        conversation_id=conversation_id,
        customer_id=customer_id,
        inbox_id=inbox_id,
        channel=msg.channel.value,
        text=msg.text,
        full_text=msg.full_text if msg.full_text != msg.text else None,
        html=msg.html,
        provider_message_id=msg.meta.get("message_id") or msg.provider_message_id,
        meta=meta,
        sent_at=msg.sent_at,
    )
    if msg.attachments:
        store_attachments(tx, cfg, message_id, msg.attachments)
    return message_id
