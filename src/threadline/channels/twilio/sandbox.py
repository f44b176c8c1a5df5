"""A local stand-in for Twilio's Messages API, for inboxes in sandbox mode.

It answers the way Twilio does (paths, Basic auth, form body, validation
errors as {code, message, more_info, status}, a 201 with the message JSON), so
the same SmsSender, or Twilio's own SDK, can talk to it. What it accepts lands
in the sandbox outbox, where the customer simulator shows it as the phone would.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath

from threadline.channels.sandbox_auth import same, sandbox_inbox
from threadline.channels.twilio.sms import form_params
from threadline.core.capabilities import sms_segments
from threadline.core.identity import InvalidIdentity, normalize_phone
from threadline.storage.db import Tx
from threadline.storage.tables import sandbox_outbox

__all__ = ["ROUTES", "record_message"]

API_VERSION = "2010-04-01"
MAX_BODY = 1600
MAX_MEDIA = 10  # Twilio fetches each MediaUrl itself; so does a test, from the outbox


def record_message(
    tx: Tx, *, account_sid: str, params: dict[str, Any], to: str, body: str
) -> tuple[str, datetime]:
    """Store one accepted message; returns its new sid and when it was created."""
    sid = "SM" + uuid.uuid4().hex
    tx.conn.execute(
        sandbox_outbox.insert(),
        {
            "provider": "twilio",
            "recipient": to,
            "provider_message_id": sid,
            "request": {"account_sid": account_sid, "params": params},
            "text": body,
            "created_at": tx.now,
        },
    )
    return sid, tx.now


def _error(status: int, code: int, message: str) -> Response[dict[str, Any]]:
    return Response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep and user and password else None


def _holds(inbox: Any, account_sid: str, user: str, password: str) -> bool:
    """The account's own SID and auth token, or one of its API keys (SK…) and secret."""
    config = inbox.config
    if not same(account_sid, config.get("account_sid")):
        return False
    if user.startswith("SK"):
        return same(user, config.get("api_key_sid")) and same(
            password, config.get("api_key_secret")
        )
    return same(user, config.get("account_sid")) and same(password, config.get("auth_token"))


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _check(form: dict[str, list[str]]) -> tuple[int, str] | None:
    """Twilio's validation, in Twilio's order, for the fields a help desk sends."""
    to = _first(form, "To") or ""
    body = _first(form, "Body") or ""
    if not to:
        return 21604, "A 'To' phone number is required."
    try:
        normalize_phone(to)
    except InvalidIdentity:
        return 21211, f"The 'To' number {to} is not a valid phone number."
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message."
    if not body.strip() and not form.get("MediaUrl") and not form.get("ContentSid"):
        return 21602, "Message body is required."
    if len(body) > MAX_BODY:
        return 21617, "The concatenated message body exceeds the 1600 character limit."
    media = form.get("MediaUrl", [])
    if len(media) > MAX_MEDIA:
        return 21623, "Number of media files exceeds allowed limit."
    if any(not url.startswith(("https://", "http://")) for url in media):
        return 21620, "Invalid media URL(s)."
    return None


@post(
    f"/sandbox/twilio/{API_VERSION}/Accounts/{{account_sid:str}}/Messages.json",
    status_code=201,
    include_in_schema=False,
)
async def create_message(
    request: Request[Any, Any, Any], account_sid: FromPath[str]
) -> Response[dict[str, Any]]:
    credentials = _basic_auth(request.headers.get("authorization", ""))
    if credentials is None:
        return _error(401, 20003, "Authentication Error - No credentials provided")
    user, password = credentials
    if (
        await sandbox_inbox(
            request, ("sms", "voice"), lambda i: _holds(i, account_sid, user, password)
        )
        is None
    ):
        return _error(401, 20003, "Authenticate")
    form: dict[str, list[str]] = {}
    for name, value in form_params(await request.body()):
        form.setdefault(name, []).append(value)
    problem = _check(form)
    if problem is not None:
        return _error(400, *problem)
    to, body = form["To"][0], _first(form, "Body") or ""
    params = {k: v[0] if len(v) == 1 else v for k, v in form.items()}
    bus = request.app.state.container.bus
    sid, created = await bus.execute(
        lambda tx: record_message(tx, account_sid=account_sid, params=params, to=to, body=body)
    )
    date = format_datetime(created)
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    return Response(
        {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": date,
            "date_sent": None,
            "date_updated": date,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": _first(form, "From"),
            "messaging_service_sid": _first(form, "MessagingServiceSid"),
            "num_media": str(len(form.get("MediaUrl", []))),
            # A Messaging Service picks the sender (and so the encoding) later.
            "num_segments": "0" if "From" not in form else str(sms_segments(body).segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if "From" in form else "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        },
        status_code=201,
    )


ROUTES = [create_message]
