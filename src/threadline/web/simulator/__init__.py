"""The customer simulator (/simulator, admins only): be the customer.

Send an SMS, a WhatsApp or Messenger or Instagram DM, a Telegram message or an
email from any identity, place a call or leave a voicemail, and read what the
sandbox providers received back. Every action posts a real, signed webhook to
this server, so it exercises the production path end to end.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from threadline.bootstrap import Container
from threadline.core.identity import InvalidIdentity, normalize_phone
from threadline.ports import Inbox
from threadline.storage.tables import sandbox_outbox
from threadline.web.simulator import payloads

__all__ = ["ROUTES"]

Req = Request[Any, Any, State]
KINDS = (
    "sms",
    "call",
    "voicemail",
    "missed-call",
    "whatsapp",
    "messenger",
    "instagram",
    "telegram",
    "email",
)
_INBOX_CHANNEL = {"sms": "sms", "call": "voice", "voicemail": "voice", "missed-call": "voice"}


def _admin(request: Req) -> dict[str, Any]:
    user = request.session.get("user") if request.session else None
    if not isinstance(user, dict):
        raise NotAuthorizedException("sign in first")
    if user.get("role") != "admin":
        raise PermissionDeniedException("the simulator is for admins")
    return user


def _container(request: Req) -> Container:
    container: Container = request.app.state.container
    return container


async def _inbox_for(c: Container, kind: str) -> Inbox | None:
    channel = _INBOX_CHANNEL.get(kind, kind)
    inboxes = [i for i in await c.bus.all_inboxes() if i.channel == channel]
    # Prefer sandbox inboxes: the simulator is for trying things without accounts.
    inboxes.sort(key=lambda i: (not i.config.get("sandbox"), i.id))
    return inboxes[0] if inboxes else None


@get("/simulator", include_in_schema=False)
async def simulator_page(request: Req, identity: FromQuery[str | None] = None) -> Template:
    agent = _admin(request)
    c = _container(request)
    available = {k: await _inbox_for(c, k) is not None for k in KINDS}
    outbox: list[Any] = []
    if identity:
        query = (
            sa.select(sandbox_outbox)
            .where(sandbox_outbox.c.recipient.in_(_recipient_forms(identity)))
            .order_by(sandbox_outbox.c.id.desc())
            .limit(50)
        )
        outbox = await c.db.read(lambda conn: list(conn.execute(query)))
    return Template(
        "simulator.html",
        context={
            "agent": agent,
            "kinds": KINDS,
            "available": available,
            "identity": identity or "",
            "outbox": outbox,
            "result": request.query_params.get("result"),
        },
    )


def _recipient_forms(identity: str) -> list[str]:
    """Providers address people differently: +1415…, 1415… (WhatsApp), or a plain id."""
    forms = {identity.strip()}
    digits = identity.strip().lstrip("+")
    forms.update({digits, "+" + digits})
    return sorted(forms)


@post("/simulator/send", include_in_schema=False, status_code=303)
async def simulator_send(
    request: Req,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    _admin(request)
    c = _container(request)
    kind = data.get("kind", "")
    identity = data.get("identity", "").strip()
    text = data.get("text", "").strip() or "Hello!"
    inbox = await _inbox_for(c, kind)
    if inbox is None or not identity:
        return _back(result=f"no {kind} inbox, or no identity")
    base = c.settings.base_url()
    try:
        requests = _build(kind, inbox, base, identity, data.get("name", ""), text)
    except InvalidIdentity as exc:
        return _back(result=str(exc))
    statuses = []
    for req in requests:
        response = await c.http.post(base + req.path, content=req.body, headers=req.headers)
        statuses.append(str(response.status_code))
    return _back(identity=identity, result=f"{kind} sent: {'/'.join(statuses)}")


def _back(**query: str) -> Redirect:
    """Post/redirect/get, so a reload does not send the message again."""
    return Redirect(f"/simulator?{urlencode(query)}", status_code=303)


def _build(
    kind: str, inbox: Inbox, base: str, identity: str, name: str, text: str
) -> list[payloads.Request]:
    if kind == "sms":
        return [payloads.sms(inbox, base, phone=normalize_phone(identity), text=text)]
    if kind in ("call", "voicemail", "missed-call"):
        outcome = {"call": "answered", "voicemail": "voicemail", "missed-call": "missed"}[kind]
        return payloads.call(
            inbox, base, phone=normalize_phone(identity), outcome=outcome, transcript=text
        )
    if kind in ("whatsapp", "messenger", "instagram"):
        user = identity.lstrip("+") if kind == "whatsapp" else identity
        return [
            payloads.meta_message(inbox, user_id=user, name=name or "Simulated customer", text=text)
        ]
    if kind == "telegram":
        return [
            payloads.telegram(inbox, user_id=int(identity), first_name=name or "Sim", text=text)
        ]
    subject = text.splitlines()[0][:60]
    return [payloads.email(inbox, sender=identity, name=name, subject=subject, text=text)]


ROUTES = [simulator_page, simulator_send]
