"""The conversation screen: the unified timeline, the composer, the actions.

Every write goes through an action, in scope: a conversation outside the
agent's inboxes is a 404 here exactly as in the API.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
import sqlalchemy as sa
from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy.engine import Connection

from threadline.actions.attachments import keep_ahead
from threadline.actions.config import ActionConfig
from threadline.actions.delivery import retry_delivery
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.reads import mark_read
from threadline.actions.replies import StaleReply, TemplateRef, send_reply
from threadline.core.capabilities import MAX_ATTACHMENTS, MAX_ATTACHMENTS_BYTES
from threadline.core.model import Attachment, Channel
from threadline.queries.attachments import attachment_data
from threadline.queries.composer import reply_options
from threadline.queries.customers import customer_detail
from threadline.queries.intake import conversation_intake
from threadline.queries.scope import Scope, access_conversation
from threadline.queries.timeline import conversation_timeline
from threadline.storage.tables import attachments, messages
from threadline.web.api.params import Id
from threadline.web.ui.actions import head_context
from threadline.web.ui.common import (
    Agent,
    Req,
    container,
    is_htmx,
    page,
    require_signed_in,
    require_writer,
    signed_in,
    to_login,
)
from threadline.web.ui.settings_common import read_form

__all__ = ["ROUTES"]

MAX_REPLY = 20_000  # characters: longer than any channel takes; each channel's own cap is lower


def _screen(
    conn: Connection, conversation_id: int, agent: Agent, now: Any, cfg: ActionConfig
) -> dict[str, Any]:
    head = head_context(conn, conversation_id, agent, cfg)
    entries = conversation_timeline(conn, conversation_id)
    return {
        **head,
        "entries": entries,
        "customer": customer_detail(conn, head["convo"]["customer_id"], scope=agent.scope),
        "options": reply_options(conn, conversation_id, "", now, scope=agent.scope),
        "seen": _newest_seen(entries),
    }


def _newest_seen(entries: list[dict[str, Any]]) -> int:
    ids = [
        e["message"]["id"]
        for e in entries
        if e["message"] is not None and e["message"]["direction"] != "note"
    ]
    return max(ids, default=0)


@get("/conversations/{conversation_id:int}", include_in_schema=False)
async def conversation_page(
    request: Req,
    conversation_id: Id,
    ask: Annotated[str | None, Parameter(max_length=10)] = None,
) -> Template | Redirect:
    """``?ask=intake`` (the "Ask for the missing" link, without JavaScript): the
    composer opens with the message asking for the facts the intake misses."""
    agent = await signed_in(request)
    if agent is None:
        return to_login(request)
    c = container(request)
    now = c.clock.now()
    since = await c.broker.last_seq()
    screen = await c.db.read(lambda conn: _screen(conn, conversation_id, agent, now, c.bus.cfg))
    if ask == "intake" and agent.can_write and screen["intake"]["ask"]:
        screen["text"] = screen["intake"]["ask"]
    # Opening it is reading it: the unread marker clears for this agent.
    await c.bus.execute(lambda tx: mark_read(tx, conversation_id, agent.id))
    return await page(
        request,
        agent,
        "ui/conversation.html",
        stream=f"/ui/stream?conversation={conversation_id}&since={since}",
        conversation_id=conversation_id,
        **screen,
    )


@post("/ui/conversations/{conversation_id:int}/read", include_in_schema=False, status_code=204)
async def post_read(request: Req, conversation_id: Id) -> None:
    """The agent's open tab showed a message that arrived while they looked at it:
    what they have seen is read, as if they had opened the page again."""
    agent = await require_signed_in(request)
    c = container(request)
    await c.db.read(lambda conn: access_conversation(conn, agent.scope, conversation_id))
    await c.bus.execute(lambda tx: mark_read(tx, conversation_id, agent.id))


async def _composer(
    request: Req, agent: Agent, conversation_id: int, *, status_code: int = 200, **extra: Any
) -> Template:
    c = container(request)
    now = c.clock.now()

    def read(conn: Connection) -> dict[str, Any]:
        access_conversation(conn, agent.scope, conversation_id)
        entries = conversation_timeline(conn, conversation_id)
        return {
            "options": reply_options(conn, conversation_id, "", now, scope=agent.scope),
            "seen": _newest_seen(entries),
        }

    data = await c.db.read(read)
    if extra.get("stale"):
        # Still the timeline the draft was written against: "Show me" moves it on.
        data["seen"] = extra.pop("seen")
    return Template(
        "ui/_composer.html",
        context={"agent": agent, "conversation_id": conversation_id, **data, **extra},
        status_code=status_code,
    )


@post("/ui/conversations/{conversation_id:int}/ask", include_in_schema=False, status_code=200)
async def post_ask(request: Req, conversation_id: Id) -> Template | Redirect:
    """The "Ask for the missing" button (htmx): the composer again, on the channel the
    agent had picked, with the intake's message after whatever draft was there.
    Nothing is sent; the agent reads it and sends it as any reply."""
    agent = await require_writer(request)
    c = container(request)
    form = await read_form(request)
    draft = form.raw("text", MAX_REPLY).strip()
    channel: str | None = form.raw("channel", 16)
    if channel not in Channel._value2member_map_:
        channel = None  # the composer's default: the current reply channel
    seen_raw = form.raw("seen", 19)
    intake = await c.db.read(
        lambda conn: conversation_intake(
            conn,
            access_conversation(conn, agent.scope, conversation_id),
            c.bus.cfg.intakes.current(conn, c.bus.cfg.intake),
        )
    )
    if not is_htmx(request):
        return Redirect(f"/conversations/{conversation_id}?ask=intake#reply-text")
    ask = intake["ask"] or ""
    text = f"{draft}\n\n{ask}" if draft and ask else (draft or ask)
    extra: dict[str, Any] = {"text": text[:MAX_REPLY], "channel": channel, "mode": "reply"}
    if seen_raw.isdigit():
        # The draft was written against this timeline: keep the stale-reply check.
        extra.update(stale=False, seen=int(seen_raw))
    return await _composer(request, agent, conversation_id, **extra)


def _template(form: dict[str, str]) -> TemplateRef | None:
    """An approved WhatsApp template, for a reply outside the 24-hour window."""
    name = (form.get("template_name") or "").strip()[:100]
    if not name:
        return None
    parameters = [p.strip() for p in (form.get("template_parameters") or "").splitlines()]
    return TemplateRef(
        name,
        (form.get("template_language") or "en").strip()[:10] or "en",
        tuple(p[:500] for p in parameters if p)[:10],
    )


async def _read_files(parts: list[Any]) -> list[Attachment]:
    """The picked files, counted and sized before any is read into memory.

    The multipart parser spools each file to disk past a small size, and the
    route's body limit caps them all together.
    """
    # An empty file input arrives as a part with no filename: a string, skipped.
    uploads = [p for p in parts if isinstance(p, UploadFile) and p.filename]
    try:
        if len(uploads) > MAX_ATTACHMENTS:
            raise ActionError(f"at most {MAX_ATTACHMENTS} attachments per message")
        total = 0
        for upload in uploads:
            upload.file.seek(0, 2)
            total += upload.file.tell()
            upload.file.seek(0)
        if total > MAX_ATTACHMENTS_BYTES:
            raise ActionError(f"attachments may add up to {MAX_ATTACHMENTS_BYTES // 2**20} MB")
        return [
            Attachment(upload.filename, upload.content_type, await upload.read())
            for upload in uploads
        ]
    finally:
        for upload in uploads:
            await upload.close()


@post(
    "/ui/conversations/{conversation_id:int}/reply",
    include_in_schema=False,
    status_code=200,
    # Files come along (multipart): the most a message may carry, plus the form.
    request_max_body_size=MAX_ATTACHMENTS_BYTES + 256 * 1024,
)
async def post_reply(request: Req, conversation_id: Id) -> Template | Redirect:
    agent = await require_writer(request)
    c = container(request)
    # Read here rather than as a Body parameter: the same form arrives url-encoded
    # (no file input) or as multipart, and request.form() reads both.
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    text = str(data.get("text") or "")[:MAX_REPLY]
    note = data.get("mode") == "note"
    channel = data.get("channel") or None
    seen_raw = str(data.get("seen") or "")
    seen = int(seen_raw) if seen_raw.isdigit() and len(seen_raw) < 19 else None
    try:
        files = await _read_files(form.getall("files", []))
        files = await anyio.to_thread.run_sync(keep_ahead, c.bus.cfg.attachment_dir, files)
        if channel is not None and channel not in Channel._value2member_map_:
            raise ActionError("pick a channel from the list")
        await c.bus.execute(
            lambda tx: send_reply(
                tx,
                c.bus.cfg,
                conversation_id=access_conversation(tx.conn, agent.scope, conversation_id),
                author_id=agent.id,
                text=text,
                channel=None if note or channel is None else Channel(channel),
                note=note,
                seen=seen,
                template=None if note else _template(data),
                attachments=files,
            )
        )
    except StaleReply:
        return await _composer(
            request,
            agent,
            conversation_id,
            status_code=409,
            stale=True,
            seen=seen,
            text=text,
            channel=channel,
            mode=data.get("mode"),
        )
    except NotFound:
        raise
    except ActionError as exc:
        # The draft comes back; the files must be picked again (browsers never
        # let a page set a file input).
        return await _composer(
            request,
            agent,
            conversation_id,
            status_code=422,
            error=str(exc),
            text=text,
            channel=channel,
            mode=data.get("mode"),
        )
    if not is_htmx(request):
        return Redirect(f"/conversations/{conversation_id}")
    return await _composer(request, agent, conversation_id, sent="Note added" if note else "Sent")


@post("/ui/messages/{message_id:int}/retry", include_in_schema=False, status_code=200)
async def post_retry(request: Req, message_id: Id) -> Response[str] | Redirect:
    agent = await require_writer(request)
    c = container(request)

    def retry(tx: Any) -> int:
        conversation_id = tx.conn.execute(
            sa.select(messages.c.conversation_id).where(messages.c.id == message_id)
        ).scalar()
        if conversation_id is None:
            raise NotFoundException("message not found")
        access_conversation(tx.conn, agent.scope, conversation_id)
        retry_delivery(tx, message_id, attempts=c.bus.cfg.delivery_attempts, actor_id=agent.id)
        return int(conversation_id)

    conversation_id = await c.bus.execute(retry)
    if is_htmx(request):
        return Response("", status_code=204)
    return Redirect(f"/conversations/{conversation_id}")


def _message_conversation(conn: Connection, message_id: int, scope: Scope) -> Any:
    row = conn.execute(
        sa.select(messages.c.conversation_id, messages.c.html).where(messages.c.id == message_id)
    ).first()
    if row is None:
        raise NotFoundException("message not found")
    access_conversation(conn, scope, row.conversation_id)
    return row


# The original email, as sanitized at ingest (nh3), in a frame that may run nothing,
# load nothing from outside (no tracking pixels) and reach nothing of the workspace.
_ORIGINAL_CSP = (
    "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; "
    "font-src 'none'; form-action 'none'; frame-ancestors 'self'"
)


@get("/ui/messages/{message_id:int}/original", include_in_schema=False)
async def original(request: Req, message_id: Id) -> Response[str]:
    agent = await require_signed_in(request)
    row = await container(request).db.read(
        lambda conn: _message_conversation(conn, message_id, agent.scope)
    )
    return Response(
        row.html or "",
        media_type="text/html",
        headers={"Content-Security-Policy": _ORIGINAL_CSP, "X-Content-Type-Options": "nosniff"},
    )


@get("/ui/attachments/{attachment_id:int}", include_in_schema=False)
async def attachment(request: Req, attachment_id: Id) -> Response[bytes]:
    agent = await require_signed_in(request)
    c = container(request)

    def read(conn: Connection) -> Any:
        row = conn.execute(
            sa.select(attachments, messages.c.conversation_id)
            .join(messages, messages.c.id == attachments.c.message_id)
            .where(attachments.c.id == attachment_id)
        ).first()
        if row is None:
            raise NotFoundException("attachment not found")
        access_conversation(conn, agent.scope, row.conversation_id)
        return row

    row = await c.db.read(read)
    data = attachment_data(row, c.bus.cfg.attachment_dir)
    if data is None:
        raise NotFoundException("attachment not stored")
    safe_name = "".join(ch for ch in row.filename if ch.isalnum() or ch in "._- ")[:120] or "file"
    return Response(
        data,
        # Never rendered inline as HTML from our origin: a download, sniffing off.
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES = [conversation_page, post_read, post_ask, post_reply, post_retry, original, attachment]
