"""What a widget may do, for both transports: the socket and the REST fallback.

Each call checks its limits and bounds, runs one action or query, and answers
with the body of the frame docs/widget.md names, or raises ``WidgetError`` with
the error frame's code. Everything a visitor sends is hostile text: it is
bounded by the frame decoder, cleaned before it is stored, and stored as text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from threadline.actions.chat import (
    Session,
    VerifiedIdentity,
    mark_delivered,
    open_session,
    record_csat,
    set_profile,
    token_digest,
    touch_visitor,
    visitor_read,
)
from threadline.actions.chat_mail import TooSoon, request_transcript
from threadline.actions.chat_uploads import store_upload
from threadline.actions.errors import ActionError
from threadline.actions.receipts import Payload
from threadline.actions.redirects import continue_redirect
from threadline.bootstrap import Container
from threadline.channels.chat.frames import IdentityClaim, Send
from threadline.channels.chat.parse import encode_payload
from threadline.channels.checks import clean_text
from threadline.core.availability import Availability, availability
from threadline.core.capabilities import CHAT_FILE_BYTES, CHAT_FILES
from threadline.core.chat_config import identity_matches
from threadline.core.filetypes import safe_filename, sniff_type
from threadline.core.identity import InvalidIdentity, normalize_email
from threadline.core.redirect import read_link
from threadline.queries import chat as q
from threadline.queries.sla_policies import first_response_targets
from threadline.storage.db import Tx
from threadline.storage.files import put_file
from threadline.web.widget.config import WidgetInbox, widget_inbox
from threadline.web.widget.frames import FileLinks, event_body
from threadline.web.widget.limits import WidgetLimits

__all__ = ["MAX_UPLOAD", "UPLOAD_TYPES", "Visitor", "WidgetError", "WidgetService"]

MAX_UPLOAD = CHAT_FILE_BYTES
UPLOAD_TYPES = CHAT_FILES
AVAILABILITY_TTL = 5.0  # seconds an inbox's "online" is reused (presence changes clear it)
RELOAD_EVERY = 2.0  # seconds between inbox reloads caused by an unknown widget key
MAX_TYPING = 10_000
# Seconds between two writes of a visitor's last_seen_at while their widget is open
# (it pings every 25 s): well under the least chat_followup_seconds (60).
HEARTBEAT = 50.0


class WidgetError(Exception):
    """A refusal the widget is told about: ``code`` as in docs/widget.md's error frame."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 422,
        retry_after: float | None = None,
        cid: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.retry_after, self.cid = retry_after, cid

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.cid is not None:
            body["cid"] = self.cid
        return body


@dataclass(frozen=True, slots=True)
class Visitor:
    """A visitor whose session token was checked, on the inbox it belongs to."""

    id: int
    key: str
    widget: WidgetInbox


class WidgetService:
    def __init__(self, container: Container) -> None:
        self.c = container
        self.limits = WidgetLimits()
        self._available: dict[int, tuple[float, Availability]] = {}
        self._reloaded = -RELOAD_EVERY
        self._typing: dict[int, bool] = {}
        self._seen: dict[int, float] = {}  # visitor → when last_seen_at was last moved

    def now(self) -> float:
        return self.c.clock.now().timestamp()

    def limit(self, rule: str, key: str) -> None:
        wait = getattr(self.limits, rule).take(key, self.now())
        if wait:
            raise WidgetError(
                "rate_limited", "too many requests; slow down", status=429, retry_after=wait
            )

    # -- inboxes and origins --------------------------------------------------------
    async def chat_inboxes(self) -> list[WidgetInbox]:
        return [widget_inbox(i) for i in await self.c.bus.all_inboxes() if i.channel == "chat"]

    async def chat_inbox(self, key: str | None) -> WidgetInbox | None:
        """The chat inbox with this widget key; an unknown key reloads the inboxes at
        most every few seconds (one added by another process), never per request."""
        if not key or len(key) > 64:
            return None
        for attempt in range(2):
            for inbox in await self.c.bus.all_inboxes():
                if inbox.channel == "chat" and inbox.address == key:
                    return widget_inbox(inbox)
            loop_now = asyncio.get_running_loop().time()
            if attempt or loop_now - self._reloaded < RELOAD_EVERY:
                return None
            self._reloaded = loop_now
            await self.c.bus.reload_inboxes()
        return None

    def own_origin(self) -> str:
        return self.c.settings.base_url()

    def allowed(self, w: WidgetInbox, origin: str | None) -> bool:
        return w.allows(origin, (self.own_origin(),))

    async def allowed_anywhere(self, origin: str | None) -> bool:
        """An origin some chat inbox allows: what a CORS preflight can check, before
        the request names its visitor (and so its inbox)."""
        return any(self.allowed(w, origin) for w in await self.chat_inboxes())

    # -- sessions --------------------------------------------------------------------
    async def visitor(self, token: str | None) -> Visitor | None:
        if not token or len(token) > 100:
            return None
        digest = token_digest(token)
        state = await self.c.db.read_small(lambda conn: q.visitor_by_token(conn, digest))
        if state is None:
            return None
        try:
            inbox = await self.c.bus.inbox(state.inbox_id)
        except LookupError:
            return None
        return Visitor(state.id, state.key, widget_inbox(inbox))

    def _identity(self, w: WidgetInbox, claim: IdentityClaim) -> VerifiedIdentity | None:
        # The hash covers the values as the page sent them; what is stored is cleaned.
        if not identity_matches(w.identity_secret, claim.user_id, claim.email, claim.hash):
            return None
        user_id = clean_text(claim.user_id).strip()
        if not user_id:
            return None
        try:
            email = normalize_email(clean_text(claim.email))
        except InvalidIdentity:
            return None
        return VerifiedIdentity(user_id, email, clean_text(claim.name) if claim.name else None)

    async def hello(
        self,
        w: WidgetInbox,
        *,
        token: str | None,
        claim: IdentityClaim | None,
        client: str,
        origin: str | None = None,
        resume: str | None = None,
    ) -> tuple[Visitor, dict[str, Any]]:
        """Resume or start the visitor's session; returns it and the welcome body. A
        refused identity leaves the visitor as they were, and the welcome says why
        under ``error`` (the socket sends it as an ``error`` frame). ``origin`` is
        the page's, already allowed: a follow-up mail links back to it (not to our
        own preview page, which is no place for a visitor). ``resume``: a redirect
        link's token (docs/redirects.md); the visitor is bound to it, and a verified
        one continues that conversation. A bad or spent one is ignored: the chat
        works as ever."""
        identity = self._identity(w, claim) if claim is not None else None
        found = await self.visitor(token)
        if found is not None and found.widget.inbox.id != w.inbox.id:
            found = None
        if found is None or identity is not None:
            state = None if found is None else await self._state(found)
            fresh = state is None or (
                identity is not None and state.verified and state.external_id != identity.user_id
            )
            if fresh:
                self.limit("new_visitors", client)
        inbox_id = w.inbox.id
        page = origin if origin and origin != self.own_origin() else None
        redirect_id = None
        if resume:
            read = read_link(resume, self.c.clock.now(), self.c.bus.cfg.secret_key)
            redirect_id = read[0] if read is not None and not read[1] else None

        def work(tx: Tx) -> Session:
            session = open_session(
                tx,
                inbox_id=inbox_id,
                token=token if found else None,
                identity=identity,
                origin=page,
            )
            if redirect_id is not None or identity is not None:
                continue_redirect(tx, redirect_id=redirect_id, visitor_id=session.visitor_id)
            return session

        session = await self.c.bus.execute(work)
        visitor = Visitor(session.visitor_id, session.key, w)
        welcome = await self.welcome(visitor, session.token)
        if claim is not None and identity is None:
            welcome["error"] = {"code": "identity", "message": "the identity could not be verified"}
        return visitor, welcome

    async def _state(self, v: Visitor) -> q.VisitorState:
        state = await self.c.db.read_small(lambda conn: q.visitor_state(conn, v.id))
        if state is None:
            raise WidgetError("forbidden", "the chat session has ended", status=401)
        return state

    async def welcome(self, v: Visitor, token: str) -> dict[str, Any]:
        state = await self._state(v)
        now = await self.availability(v.widget)
        return {
            "token": token,
            "visitor": {"name": state.name, "email": state.email, "verified": state.verified},
            "seq": state.last_seq,
            "online": now.online,
            "expect": now.expect,
            "config": v.widget.public,
        }

    # -- presence --------------------------------------------------------------------
    def forget_availability(self) -> None:
        self._available.clear()

    async def availability(self, w: WidgetInbox) -> Availability:
        loop_now = asyncio.get_running_loop().time()
        cached = self._available.get(w.inbox.id)
        if cached is not None and loop_now - cached[0] < AVAILABILITY_TTL:
            return cached[1]
        states = await self.c.presence.states()
        online = [user for user, state in states.items() if state == "online"]
        inbox_id, now = w.inbox.id, self.c.clock.now()
        answerable = bool(online) and await self.c.db.read(
            lambda conn: q.can_answer(conn, online, inbox_id, now)
        )
        # The chat policy as edited in Settings → Response targets, read with the
        # rest every few seconds (AVAILABILITY_TTL), so an edit shows without a restart.
        targets = await self.c.db.read(first_response_targets)
        hours = w.inbox.config.get("hours")
        found = availability(
            hours if isinstance(hours, Mapping) else None,
            now,
            agents_online=answerable,
            target=targets.get("chat"),
        )
        self._available[w.inbox.id] = (loop_now, found)
        return found

    # -- what a visitor does -------------------------------------------------------
    async def send(self, v: Visitor, frame: Send) -> dict[str, Any]:
        """Store a message (through bus.ingest: receipts dedup a resend); the ack body."""
        cid = frame.cid
        try:
            self.limit("messages", f"v{v.id}")
        except WidgetError as exc:
            exc.cid = cid
            raise
        text = clean_text(frame.text).strip()
        if not text:
            raise WidgetError("invalid", "a message needs text", cid=cid)
        state = await self._state(v)
        if v.widget.prechat == "required" and not (state.email or state.verified):
            raise WidgetError("invalid", "please fill in the form before chatting", cid=cid)
        uploads = list(frame.attachments)
        inbox_id, key = v.widget.inbox.id, v.key
        if uploads:  # checked here too, so the visitor hears why rather than a quarantine
            missing = await self.c.db.read(lambda c: q.missing_uploads(c, inbox_id, key, uploads))
            if missing:
                raise WidgetError("invalid", f"unknown upload: {', '.join(missing)}", cid=cid)
        body = encode_payload(
            visitor=key,
            cid=cid,
            text=text,
            uploads=uploads,
            name=state.name,
            email=state.email,
            external_id=state.external_id,
            verified=state.verified,
            conversation_id=state.conversation_id,
        )
        outcome = await self.c.bus.ingest(Payload(inbox_id, "chat", body, {"visitor": key}))
        message_id = outcome.message_id
        seq = None
        if message_id is not None:
            seq = await self.c.db.read_small(lambda c: q.event_seq(c, v.id, message_id))
        if seq is None:
            # Kept in quarantine with its reason for the team; the widget is told.
            raise WidgetError("invalid", "the message could not be delivered", cid=cid)
        return {"cid": cid, "seq": seq}

    async def events(self, v: Visitor, since: int, limit: int = q.MAX_PAGE) -> list[dict[str, Any]]:
        """Event bodies after ``since`` (≤ 200); agents' messages sent here are delivered."""
        # By the visitor's key and at most a page: on SQLite this runs on the loop's
        # own reader (db.read_small), as a hop to a thread and back cost more than it
        # (bench/widget.py: every message is read back once per visitor socket).
        found = await self.c.db.read_small(lambda c: q.events_after(c, v.id, since, limit))
        return await self._bodies(v, found)

    async def state_and_events(
        self, v: Visitor, since: int
    ) -> tuple[q.VisitorState | None, list[dict[str, Any]]]:
        """The visitor's state and the first page of events after ``since``, in one
        read: what a socket needs each time the visitor's stream moves.

        Two statements, each its own snapshot (as on PostgreSQL): the state is read
        first, so every event its read mark covers is in the events read after it."""

        def both(c: Any) -> tuple[q.VisitorState | None, list[q.ChatEvent]]:
            return q.visitor_state(c, v.id), q.events_after(c, v.id, since)

        state, found = await self.c.db.read_small(both)
        return state, await self._bodies(v, found)

    async def _bodies(self, v: Visitor, found: list[q.ChatEvent]) -> list[dict[str, Any]]:
        links = FileLinks(self.c.settings.base_url(), self.c.bus.cfg.secret_key, self.c.clock.now())
        sent = [e.message_id for e in found if e.status == "sent" and e.direction == "outbound"]
        if sent:
            await self.c.bus.execute(lambda tx: mark_delivered(tx, v.id, [i for i in sent if i]))
        return [event_body(e, links) for e in found]

    async def read(self, v: Visitor, seq: int) -> None:
        await self.c.bus.execute(lambda tx: visitor_read(tx, v.id, seq))

    async def profile(self, v: Visitor, name: str | None, email: str | None) -> None:
        await self._act(lambda tx: set_profile(tx, v.id, name=name, email=email))

    async def csat(self, v: Visitor, score: int, comment: str | None) -> None:
        await self._act(lambda tx: record_csat(tx, v.id, score, comment))

    async def transcript(self, v: Visitor, email: str | None) -> None:
        """Mail the chat to the visitor (a job); once per 10 minutes per visitor."""
        try:
            await self.c.bus.execute(lambda tx: request_transcript(tx, v.id, email))
        except TooSoon as exc:
            raise WidgetError(
                "rate_limited", str(exc), status=429, retry_after=exc.retry_after
            ) from exc
        except ActionError as exc:
            raise WidgetError("invalid", str(exc)) from exc

    async def seen(self, v: Visitor) -> None:
        """The visitor's widget was heard from (a keep-alive, a REST poll): at most
        every HEARTBEAT seconds, their ``last_seen_at`` moves, so a reply they have
        not read yet is not mailed while they are still on the page."""
        now = self.now()
        if now - self._seen.get(v.id, -HEARTBEAT) < HEARTBEAT:
            return
        if len(self._seen) >= MAX_TYPING:
            self._seen.pop(next(iter(self._seen)))
        self._seen[v.id] = now
        await self.c.bus.execute(lambda tx: touch_visitor(tx, v.id))

    async def _act(self, fn: Any) -> None:
        try:
            await self.c.bus.execute(fn)
        except ActionError as exc:
            raise WidgetError("invalid", str(exc)) from exc

    async def typing(self, v: Visitor, on: bool) -> None:
        """Forward the visitor's typing to the agents viewing the conversation: a start
        at most once a second, a stop whenever a start was forwarded."""
        shown = self._typing.get(v.id, False)
        if on == shown and not on:
            return
        if on and self.limits.typing.take(f"v{v.id}", self.now()):
            return
        state = await self._state(v)
        if state.conversation_id is None:
            return
        if on:
            if len(self._typing) >= MAX_TYPING:
                self._typing.pop(next(iter(self._typing)))
            self._typing[v.id] = True
        else:
            self._typing.pop(v.id, None)
        await self.c.broker.publish(
            f"conversation:{state.conversation_id}",
            {
                "type": "visitor_typing",
                "conversation_id": state.conversation_id,
                "visitor_id": v.id,
                "on": on,
            },
        )

    async def upload(self, v: Visitor, filename: str, claimed: str, data: bytes) -> dict[str, Any]:
        self.limit("uploads", f"v{v.id}")
        if not data:
            raise WidgetError("invalid", "the file is empty")
        if len(data) > MAX_UPLOAD:
            raise WidgetError("too_large", "a file is at most 10 MiB", status=413)
        name = safe_filename(clean_text(filename))
        kind = sniff_type(data, claimed, name)
        if kind not in UPLOAD_TYPES:
            raise WidgetError("invalid", "images, PDF and plain text files only")
        inbox_id, key = v.widget.inbox.id, v.key
        root = self.c.bus.cfg.attachment_dir
        # Into the file store first, in a thread: the writer records its name only.
        stored = None if root is None else await anyio.to_thread.run_sync(put_file, root, data)
        upload_id = await self.c.bus.execute(
            lambda tx: store_upload(
                tx,
                inbox_id=inbox_id,
                visitor_key=key,
                filename=name,
                content_type=kind,
                data=data,
                stored=stored,
            )
        )
        return {"id": upload_id, "name": name, "type": kind, "size": len(data)}
