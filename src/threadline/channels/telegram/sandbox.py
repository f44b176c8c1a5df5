"""A local stand-in for the Telegram Bot API, for inboxes in sandbox mode.

It speaks the real API's shape: ``/bot<token>/<method>``, parameters as JSON,
a form or the query string, and ``{"ok": …}`` answers whose ``result`` is a
real Bot API object. That is what lets python-telegram-bot's own ``Bot`` talk
to it, which is how the tests know the fake and the real API agree. Messages
it accepts land in the sandbox outbox, where the customer simulator shows them.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
import sqlalchemy as sa
from litestar import Request, Response, route
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from threadline.channels.sandbox_auth import same, sandbox_inbox
from threadline.storage.db import Tx
from threadline.storage.tables import sandbox_outbox

__all__ = ["ROUTES", "bot_user", "record_sent_message"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
# Bot API upload limits: photos 10 MB, other files 50 MB.
MAX_PHOTO = 10 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024
_TOKEN = re.compile(r"^bot(\d+):[A-Za-z0-9_-]+$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

Req = Request[Any, Any, Any]


class _BotApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _answer(result: Any, description: str | None = None) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return Response(body, status_code=200)


def _refuse(error: _BotApiError) -> Response[dict[str, Any]]:
    return Response(
        {"ok": False, "error_code": error.code, "description": error.description},
        status_code=error.code,
    )


async def _bot_id(request: Req, segment: str) -> int:
    """The bot's id, for a token that one of our sandbox Telegram inboxes holds."""
    if not segment.startswith("bot"):
        raise _BotApiError(404, "Not Found")
    found = _TOKEN.match(segment)
    if found is None:
        raise _BotApiError(401, "Unauthorized")
    token = segment.removeprefix("bot")
    if (
        await sandbox_inbox(
            request, ("telegram",), lambda i: same(token, i.config.get("bot_token"))
        )
        is None
    ):
        raise _BotApiError(401, "Unauthorized")
    return int(found.group(1))


def bot_user(bot_id: int) -> dict[str, Any]:
    """The bot as getMe describes it; the id is the token's numeric part, as on Telegram."""
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": "Threadline Sandbox",
        "username": f"threadline_sandbox_{bot_id}_bot",
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


async def _params(request: Req) -> dict[str, Any]:
    """Bot API parameters arrive as JSON, a form (SDKs use this) or the query string."""
    params: dict[str, Any] = dict(request.query_params.items())
    if request.method == "GET":
        return params
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError as exc:
            raise _BotApiError(400, "Bad Request: can't parse JSON object") from exc
        if not isinstance(data, dict):
            raise _BotApiError(400, "Bad Request: can't parse JSON object")
        params.update(data)
    else:
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _chat_id(params: Mapping[str, Any]) -> int:
    raw = params.get("chat_id")
    if raw is None or str(raw).strip() == "":
        raise _BotApiError(400, "Bad Request: chat_id is empty")
    if isinstance(raw, bool):
        raise _BotApiError(400, "Bad Request: chat not found")
    try:
        return int(str(raw).strip())
    except ValueError:
        # "@channelname" targets: the sandbox only knows private chats
        raise _BotApiError(400, "Bad Request: chat not found") from None


def record_sent_message(tx: Tx, *, chat_id: int, text: str, request: dict[str, Any]) -> int:
    """Store one sent message; its row id doubles as Telegram's message_id."""
    row_id: int = tx.conn.execute(
        sandbox_outbox.insert().returning(sandbox_outbox.c.id),
        {
            "provider": "telegram",
            "recipient": str(chat_id),
            # unique per row until we know the id, which then names it
            "provider_message_id": f"tg-pending:{uuid.uuid4()}",
            "request": request,
            "text": text,
            "created_at": tx.now,
        },
    ).scalar_one()
    tx.conn.execute(
        sa.update(sandbox_outbox)
        .where(sandbox_outbox.c.id == row_id)
        .values(provider_message_id=f"tg:{chat_id}:{row_id}")
    )
    return row_id


@route(
    "/sandbox/telegram/{bot:str}/sendMessage", http_method=["GET", "POST"], include_in_schema=False
)
async def send_message(request: Req, bot: FromPath[str]) -> Response[dict[str, Any]]:
    try:
        bot_id = await _bot_id(request, bot)
        params = await _params(request)
        chat_id = _chat_id(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise _BotApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise _BotApiError(400, "Bad Request: message is too long")
    except _BotApiError as exc:
        return _refuse(exc)
    # The container lives in the app's state (web.app): no import of the web layer.
    container = request.app.state.container
    message_id = await container.bus.execute(
        lambda tx: record_sent_message(tx, chat_id=chat_id, text=text, request=params)
    )
    return _answer(
        {
            "message_id": message_id,
            "from": bot_user(bot_id),
            "chat": {"id": chat_id, "type": "private"},
            "date": int(container.clock.now().timestamp()),
            "text": text,
        }
    )


async def _upload(request: Req, params: dict[str, Any], field: str, limit: int) -> dict[str, Any]:
    """The file in ``field`` as the outbox records it: what arrived, and its hash.

    Telegram also takes a file_id or an http URL there; the sandbox keeps those as given.
    """
    value: Any = params.get(field)
    if value is None and request.content_type[0] == "multipart/form-data":
        value = (await request.form()).get(field)
    if isinstance(value, str) and value.strip():
        return {"file": value}
    if not isinstance(value, UploadFile):
        raise _BotApiError(400, f"Bad Request: there is no {field} in the request")
    data = await value.read()
    if not data:
        raise _BotApiError(400, "Bad Request: file must be non-empty")
    if len(data) > limit:
        raise _BotApiError(413, "Request Entity Too Large")
    return {
        "filename": value.filename,
        "content_type": value.content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _sent_file(field: str, file: dict[str, Any], message_id: int) -> Any:
    file_id = f"sandbox-{message_id}"
    if field == "photo":
        size = {"file_id": file_id, "file_unique_id": file_id, "width": 0, "height": 0}
        return [{**size, "file_size": file.get("size", 0)}]
    return {
        "file_id": file_id,
        "file_unique_id": file_id,
        "file_name": file.get("filename"),
        "mime_type": file.get("content_type"),
        "file_size": file.get("size", 0),
    }


async def _send_file(request: Req, bot: str, field: str, limit: int) -> Response[dict[str, Any]]:
    try:
        bot_id = await _bot_id(request, bot)
        params = await _params(request)
        chat_id = _chat_id(params)
        file = await _upload(request, params, field, limit)
        caption = str(params.get("caption") or "")
        if len(caption) > MAX_CAPTION:
            raise _BotApiError(400, "Bad Request: message caption is too long")
    except _BotApiError as exc:
        return _refuse(exc)
    record = {**params, "chat_id": chat_id, field: file}
    text = caption or f"[{field}] {file.get('filename') or file.get('file')}"
    container = request.app.state.container
    message_id = await container.bus.execute(
        lambda tx: record_sent_message(tx, chat_id=chat_id, text=text, request=record)
    )
    result = {
        "message_id": message_id,
        "from": bot_user(bot_id),
        "chat": {"id": chat_id, "type": "private"},
        "date": int(container.clock.now().timestamp()),
        field: _sent_file(field, file, message_id),
    }
    if caption:
        result["caption"] = caption
    return _answer(result)


# The route's own body limit: the app's 2 MiB would refuse what Telegram takes.
@route(
    "/sandbox/telegram/{bot:str}/sendPhoto",
    http_method=["POST"],
    include_in_schema=False,
    request_max_body_size=MAX_PHOTO + 64 * 1024,
)
async def send_photo(request: Req, bot: FromPath[str]) -> Response[dict[str, Any]]:
    return await _send_file(request, bot, "photo", MAX_PHOTO)


@route(
    "/sandbox/telegram/{bot:str}/sendDocument",
    http_method=["POST"],
    include_in_schema=False,
    request_max_body_size=MAX_UPLOAD + 64 * 1024,
)
async def send_document(request: Req, bot: FromPath[str]) -> Response[dict[str, Any]]:
    return await _send_file(request, bot, "document", MAX_UPLOAD)


@route("/sandbox/telegram/{bot:str}/getMe", http_method=["GET", "POST"], include_in_schema=False)
async def get_me(request: Req, bot: FromPath[str]) -> Response[dict[str, Any]]:
    try:
        return _answer(bot_user(await _bot_id(request, bot)))
    except _BotApiError as exc:
        return _refuse(exc)


@route(
    "/sandbox/telegram/{bot:str}/setWebhook", http_method=["GET", "POST"], include_in_schema=False
)
async def set_webhook(request: Req, bot: FromPath[str]) -> Response[dict[str, Any]]:
    """Checks what Telegram checks before it accepts a webhook; remembers nothing."""
    try:
        await _bot_id(request, bot)
        params = await _params(request)
        if not str(params.get("url") or "").startswith("https://"):
            raise _BotApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.match(str(secret)):
            raise _BotApiError(400, "Bad Request: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            try:
                allowed = orjson.loads(allowed)  # form bodies carry it JSON-encoded
            except orjson.JSONDecodeError:
                allowed = None
        if allowed is not None and not isinstance(allowed, list):
            raise _BotApiError(400, "Bad Request: can't parse allowed updates")
    except _BotApiError as exc:
        return _refuse(exc)
    return _answer(True, "Webhook was set")


ROUTES = [send_message, send_photo, send_document, get_me, set_webhook]
