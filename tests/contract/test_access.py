"""Every route and page, for every role, against a table of expected statuses.

The routes come from the OpenAPI schema and the app's route table, so a new
route without a row here fails ``test_the_table_covers_every_route``. Path
parameters name real objects (tests/support/desk.py): Billing's for the roles
that may see them, Sales's for Rosa looking out of her scope ("outsider").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.support.desk import PASSWORD, Desk, Side, build_desk
from tests.support.factories import form_token, make_inbox, ui_login

from threadline.actions.rules import create_rule
from threadline.bootstrap import Container
from threadline.settings import Settings
from threadline.storage.tables import api_tokens, messages
from threadline.web.app import create_app
from threadline.web.widget.assets import WIDGET_JS

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The walk signs in and out many times on a clock that stands still: the
    per-address budget for /login (tested in test_login.py) is raised out of its way."""
    return settings.model_copy(update={"login_requests_burst": 10_000})


ROLES = ("admin", "agent", "viewer", "restricted", "outsider", "anon")
# Not walked here: provider-signed webhooks (their signature tests refuse forgeries),
# the provider sandboxes and customer simulator, mounted only in demo and sandbox mode,
# and /media/ links, whose signed token is the only credential
# (tests/channels/test_reply_files_sent.py refuses forged and expired ones).
ELSEWHERE = ("/webhooks/", "/sandbox/", "/simulator", "/media/")

Row = dict[str, int]


def read(ok: int = 200, *, obj: bool = False) -> Row:
    """Any signed-in role; an object out of scope is not found."""
    return {**dict.fromkeys(ROLES, ok), "outsider": 404 if obj else ok, "anon": 401}


def write(ok: int, *, obj: bool = True) -> Row:
    """Agents and admins; viewers are refused, objects out of scope not found."""
    return {**read(ok, obj=obj), "viewer": 403}


def admin(ok: int) -> Row:
    return {**dict.fromkeys(ROLES, 403), "admin": ok, "anon": 401}


def page(ok: int = 200, *, obj: bool = False) -> Row:
    """A UI page: signed out, you are sent to sign in."""
    return {**read(ok, obj=obj), "anon": 302}


def everyone(ok: int) -> Row:
    return dict.fromkeys(ROLES, ok)


def settings_post(ok: int) -> Row:
    """An admin's settings form; other roles are refused, strangers asked who they are."""
    return {**dict.fromkeys(ROLES, 403), "admin": ok, "anon": 401}


API = "/api/v1"
Body = Callable[[Side, Desk], Any]
RULE = {
    "name": "VIPs first",
    "events": ["message_received"],
    "conditions": [{"tags": {"any": ["vip"]}}],
    "actions": [{"set_priority": "high"}],
}


def _corrected(side: Side, desk: Desk) -> dict[str, str]:
    return {"payload": json.dumps({"customer": {"external_id": "zed"}, "text": "hello again"})}


# (method, path) -> (expected status by role, request body or None, query string)
TABLE: dict[tuple[str, str], tuple[Row, Body | None, str]] = {
    ("POST", f"{API}/messages"): (
        write(202),
        lambda s, d: {
            "id": "m-new",
            "inbox_id": s.api_inbox,
            "customer": {"external_id": "zed"},
            "text": "hello",
        },
        "",
    ),
    ("GET", f"{API}/customers"): (read(), None, ""),
    ("POST", f"{API}/customers"): (write(201, obj=False), lambda s, d: {"name": "Zed"}, ""),
    ("GET", f"{API}/customers/{{customer_id}}"): (read(obj=True), None, ""),
    ("PATCH", f"{API}/customers/{{customer_id}}"): (
        write(200),
        lambda s, d: {"name": "Ana Souza", "attributes": {"plan": "pro"}},
        "",
    ),
    ("GET", f"{API}/customers/{{customer_id}}/timeline"): (read(obj=True), None, ""),
    ("GET", f"{API}/customers/{{customer_id}}/identities"): (read(obj=True), None, ""),
    ("POST", f"{API}/customers/{{customer_id}}/identities"): (
        write(201),
        lambda s, d: {"kind": "email", "value": "ana.new@example.com"},
        "",
    ),
    ("POST", f"{API}/customers/merge"): (
        write(201),
        lambda s, d: {"source_id": s.merge_pair[0], "target_id": s.merge_pair[1]},
        "",
    ),
    ("POST", f"{API}/customers/unmerge"): (write(201), lambda s, d: {"merge_id": s.merge_id}, ""),
    ("GET", f"{API}/customers/{{customer_id}}/merge-suggestions"): (read(obj=True), None, ""),
    ("POST", f"{API}/merge-suggestions/{{suggestion_id}}/accept"): (write(201), None, ""),
    ("POST", f"{API}/merge-suggestions/{{suggestion_id}}/dismiss"): (write(200), None, ""),
    ("GET", f"{API}/conversations"): (read(), None, ""),
    ("GET", f"{API}/conversations/{{conversation_id}}"): (read(obj=True), None, ""),
    ("PATCH", f"{API}/conversations/{{conversation_id}}"): (
        write(200),
        lambda s, d: {"priority": "high"},
        "",
    ),
    ("POST", f"{API}/conversations/{{conversation_id}}/read"): (read(obj=True), None, ""),
    ("POST", f"{API}/conversations/{{conversation_id}}/merge"): (
        # Into itself: refused (422) only once the role and scope checks have
        # passed, which is what this table is about (test_conversation_merge.py
        # merges for real).
        write(422),
        lambda s, d: {"source_id": s.conversation_id},
        "",
    ),
    ("GET", f"{API}/conversations/{{conversation_id}}/messages"): (read(obj=True), None, ""),
    ("POST", f"{API}/conversations/{{conversation_id}}/replies"): (
        write(202),
        lambda s, d: {"text": "Looking into it", "note": True},
        "",
    ),
    ("GET", f"{API}/conversations/{{conversation_id}}/reply-options"): (
        read(obj=True),
        None,
        "",
    ),
    ("GET", f"{API}/search"): (read(), None, "?q=order"),
    ("PATCH", f"{API}/conversations/{{conversation_id}}/triage"): (
        write(200),
        lambda s, d: {"urgent": True},
        "",
    ),
    ("POST", f"{API}/triage"): (
        write(200, obj=False),
        lambda s, d: {"text": "my card was declined", "channel": "sms"},
        "",
    ),
    ("GET", f"{API}/receipts"): (admin(200), None, ""),
    ("GET", f"{API}/receipts/{{receipt_id}}"): (admin(200), None, ""),
    ("POST", f"{API}/receipts/{{receipt_id}}/replay"): (admin(201), _corrected, ""),
    ("POST", f"{API}/calls"): (
        write(201),
        lambda s, d: {
            "customer_id": s.customer_id,
            "conversation_id": s.conversation_id,
            "direction": "outbound",
            "notes": "Called back",
        },
        "",
    ),
    ("GET", f"{API}/tasks"): (read(), None, ""),
    ("POST", f"{API}/tasks/{{task_id}}/done"): (write(200), None, ""),
    ("POST", f"{API}/agents/me/duty"): (write(200, obj=False), lambda s, d: {"on_duty": False}, ""),
    ("GET", f"{API}/inboxes"): (read(), None, ""),
    ("GET", f"{API}/teams"): (read(), None, ""),
    ("POST", f"{API}/teams"): (admin(201), lambda s, d: {"name": "Night shift"}, ""),
    ("PUT", f"{API}/teams/{{team_id}}/members"): (
        admin(200),
        lambda s, d: {"user_ids": [d.users["agent"].id]},
        "",
    ),
    ("PUT", f"{API}/teams/{{team_id}}/inboxes"): (
        admin(200),
        lambda s, d: {"inbox_ids": [s.email_inbox]},
        "",
    ),
    ("GET", f"{API}/inboxes/{{inbox_id}}/assignment"): (admin(200), None, ""),
    ("PUT", f"{API}/inboxes/{{inbox_id}}/assignment"): (
        admin(200),
        lambda s, d: {"strategy": "round_robin", "batch_times": ["09:00"]},
        "",
    ),
    ("GET", f"{API}/agents/{{user_id}}/assignment"): (admin(200), None, ""),
    ("PUT", f"{API}/agents/{{user_id}}/assignment"): (
        admin(200),
        lambda s, d: {"capacity": {"chat": 2}, "skills": ["billing"]},
        "",
    ),
    # The desk's inboxes have no level-2 team: refused once role and scope allowed it.
    ("POST", f"{API}/conversations/{{conversation_id}}/escalate"): (write(422), None, ""),
    ("PUT", f"{API}/users/{{user_id}}/inbox-scope"): (
        admin(200),
        lambda s, d: {"all_inboxes": True},
        "",
    ),
    ("GET", f"{API}/rules"): (read(), None, ""),
    ("POST", f"{API}/rules"): (admin(201), lambda s, d: RULE, ""),
    ("PUT", f"{API}/rules/order"): (admin(422), lambda s, d: {"rule_ids": []}, ""),
    ("GET", f"{API}/rules/{{rule_id}}"): (read(), None, ""),
    ("GET", f"{API}/rules/{{rule_id}}/versions"): (read(), None, ""),
    ("PUT", f"{API}/rules/{{rule_id}}"): (admin(200), lambda s, d: RULE, ""),
    ("PUT", f"{API}/rules/{{rule_id}}/enabled"): (admin(200), lambda s, d: {"enabled": False}, ""),
    ("DELETE", f"{API}/rules/{{rule_id}}"): (admin(200), None, ""),
    ("GET", f"{API}/sla-policies"): (read(), None, ""),
    ("GET", f"{API}/intake"): (read(), None, ""),
    ("PUT", f"{API}/intake"): (admin(200), lambda s, d: {"categories": {}}, ""),
    ("PUT", f"{API}/sla-policies/{{channel}}/{{priority}}/{{kind}}"): (
        admin(200),
        lambda s, d: {"seconds": 3600, "business": True, "warn_percent": 75},
        "",
    ),
    ("GET", f"{API}/inboxes/{{inbox_id}}/calendar"): (read(obj=True), None, ""),
    ("PUT", f"{API}/inboxes/{{inbox_id}}/calendar"): (
        admin(200),
        lambda s, d: {"timezone": "Europe/Berlin", "days": {"mon": [["09:00", "17:00"]]}},
        "",
    ),
    ("GET", f"{API}/inboxes/{{inbox_id}}/off-hours-reply"): (read(obj=True), None, ""),
    ("PUT", f"{API}/inboxes/{{inbox_id}}/off-hours-reply"): (
        admin(200),
        lambda s, d: {"enabled": True, "help_url": "https://help.acme.test"},
        "",
    ),
    # the agent UI and ops
    ("GET", "/"): (everyone(302), None, ""),
    ("GET", "/login"): (everyone(200), None, ""),
    # Public by design: how to reach the business, generated from the inboxes.
    ("GET", "/contact"): (everyone(200), None, ""),
    ("POST", "/login"): (everyone(200), None, ""),  # a wrong password: the form again
    ("GET", "/inbox"): (page(), None, ""),
    ("GET", "/customers/{customer_id}"): (page(obj=True), None, ""),
    ("GET", "/healthz"): (everyone(200), None, ""),
    ("GET", "/metrics"): (everyone(200), None, ""),
    # The workspace: pages redirect a signed-out browser to sign in; fragments,
    # actions and the stream answer 401 (htmx turns it into a reload).
    ("GET", "/conversations/{conversation_id}"): (page(obj=True), None, ""),
    ("GET", "/search"): (page(), None, "?q=order"),
    ("GET", "/ui/conversations/{conversation_id}/head"): (read(obj=True), None, ""),
    ("GET", "/ui/counts"): (read(), None, ""),
    ("POST", "/ui/conversations/{conversation_id}/read"): (read(204, obj=True), None, ""),
    ("POST", "/ui/conversations/{conversation_id}/reply"): (
        write(302),
        lambda s, d: {"mode": "note", "text": "checked"},
        "",
    ),
    ("POST", "/ui/conversations/{conversation_id}/update"): (
        write(302),
        lambda s, d: {"priority": "high"},
        "",
    ),
    ("POST", "/ui/conversations/{conversation_id}/triage"): (
        write(302),
        lambda s, d: {"category": "billing", "urgent": "yes"},
        "",
    ),
    ("POST", "/ui/conversations/{conversation_id}/escalate"): (write(422), None, ""),
    ("POST", "/ui/conversations/{conversation_id}/ask"): (write(302), lambda s, d: {}, ""),
    ("POST", "/ui/conversations/{conversation_id}/merge"): (
        # into itself: refused, but only once role and scope allowed the try
        write(422),
        lambda s, d: {"source_id": str(s.conversation_id)},
        "",
    ),
    # an inbound message: there is nothing to retry, once role and scope let you ask
    ("POST", "/ui/messages/{message_id}/retry"): (write(404), None, ""),
    ("GET", "/ui/messages/{message_id}/original"): (read(obj=True), None, ""),
    ("POST", "/ui/customers/{customer_id}/profile"): (
        write(302),
        lambda s, d: {"key": "plan", "value": "pro"},
        "",
    ),
    # The API rows above settled this suggestion and undid this merge: 409, once
    # role and scope let the form through.
    ("POST", "/ui/merge-suggestions/{suggestion_id}/{verdict}"): (write(409), None, ""),
    ("POST", "/ui/merges/{merge_id}/undo"): (write(409), None, ""),
    ("GET", "/ui/attachments/{attachment_id}"): ({**everyone(404), "anon": 401}, None, ""),
    ("GET", "/ui/stream"): (read(obj=True), None, "?conversation={conversation_id}"),
    ("POST", "/ui/presence"): (
        {**everyone(204), "anon": 401},
        lambda s, d: {"tab": "t1", "active": "1", "conversation": str(s.conversation_id)},
        "",
    ),
    # Settings: admins only; a signed-out browser is sent to sign in.
    **{
        ("GET", f"/settings{sub}"): ({**admin(200), "anon": 302}, None, "")
        for sub in (
            "",
            "/agents",
            "/teams",
            "/inboxes",
            "/assignment",
            "/tokens",
            "/profile",
            "/rules",
            "/sla",
            "/triage",
            "/intake",
        )
    },
    ("POST", "/settings/agents"): (settings_post(422), lambda s, d: {"email": "x"}, ""),
    ("POST", "/settings/agents/{user_id}/role"): (
        settings_post(303),
        lambda s, d: {"role": "agent"},
        "",
    ),
    ("POST", "/settings/agents/{user_id}/scope"): (
        settings_post(303),
        lambda s, d: {"scope": "all"},
        "",
    ),
    ("POST", "/settings/agents/{user_id}/deactivate"): (settings_post(303), None, ""),
    ("POST", "/settings/agents/{user_id}/reactivate"): (settings_post(303), None, ""),
    ("POST", "/settings/assignment/inboxes/{inbox_id}"): (
        settings_post(303),
        lambda s, d: {"strategy": "load_balanced", "sticky": "1"},
        "",
    ),
    ("POST", "/settings/assignment/agents/{user_id}"): (
        settings_post(303),
        lambda s, d: {"capacity_chat": "2", "shifts": "mon-fri 09:00-17:00 chat"},
        "",
    ),
    ("POST", "/settings/teams"): (settings_post(422), lambda s, d: {"name": ""}, ""),
    ("POST", "/settings/teams/{team_id}"): (settings_post(303), lambda s, d: {}, ""),
    ("POST", "/settings/inboxes/connect/{provider}"): (settings_post(422), lambda s, d: {}, ""),
    ("POST", "/settings/inboxes/{inbox_id}/check"): (settings_post(200), None, ""),
    # A chat inbox's setup (the walk names a chat inbox here, see _url): the page, a
    # save with every field left empty (the defaults), the secret shown on request,
    # a new secret, and the test page with the real widget.
    ("GET", "/settings/inboxes/{inbox_id}/chat"): ({**admin(200), "anon": 302}, None, ""),
    ("POST", "/settings/inboxes/{inbox_id}/chat"): (settings_post(303), None, ""),
    ("POST", "/settings/inboxes/{inbox_id}/chat/secret"): (settings_post(200), None, ""),
    ("POST", "/settings/inboxes/{inbox_id}/chat/secret/new"): (settings_post(303), None, ""),
    ("GET", "/settings/inboxes/{inbox_id}/test-page"): ({**admin(200), "anon": 302}, None, ""),
    # Rules (the walk names a rule of its own here, see _url): a form that is no JSON,
    # then a switch, a move and the delete, each back to the page.
    ("POST", "/settings/rules"): (settings_post(422), lambda s, d: {"rule": "{"}, ""),
    ("POST", "/settings/rules/{rule_id}"): (settings_post(422), lambda s, d: {"rule": "[]"}, ""),
    ("POST", "/settings/rules/{rule_id}/enabled"): (settings_post(303), None, ""),
    ("POST", "/settings/rules/{rule_id}/move"): (settings_post(303), None, ""),
    ("POST", "/settings/rules/{rule_id}/delete"): (settings_post(303), None, ""),
    ("POST", "/settings/sla/{channel}"): (
        settings_post(303),
        lambda s, d: {"urgent.first_response.target": "1h", "urgent.first_response.warn": "80"},
        "",
    ),
    # A social inbox's redirect of account questions (the walk names a WhatsApp inbox
    # here, see _url): the page, and a save with every box unticked (the redirect off).
    ("GET", "/settings/inboxes/{inbox_id}/redirect"): ({**admin(200), "anon": 302}, None, ""),
    ("POST", "/settings/inboxes/{inbox_id}/redirect"): (settings_post(303), None, ""),
    ("GET", "/settings/inboxes/{inbox_id}/calendar"): ({**admin(200), "anon": 302}, None, ""),
    ("POST", "/settings/inboxes/{inbox_id}/calendar"): (
        settings_post(303),
        lambda s, d: {"timezone": "Europe/Berlin", "mon": "09:00-17:00", "country": "DE"},
        "",
    ),
    ("POST", "/settings/inboxes/{inbox_id}/off-hours"): (
        settings_post(303),
        lambda s, d: {"enabled": "1", "help_url": "https://help.acme.test/", "contact_page": "1"},
        "",
    ),
    ("POST", "/settings/tokens"): (settings_post(422), lambda s, d: {}, ""),
    ("POST", "/settings/triage"): (settings_post(422), lambda s, d: {"lexicon": "[]"}, ""),
    ("POST", "/settings/intake"): (settings_post(422), lambda s, d: {"checklist": "[]"}, ""),
    ("POST", "/settings/tokens/{token_id}/revoke"): (settings_post(303), None, ""),
    ("POST", "/settings/profile"): (
        settings_post(303),
        lambda s, d: {"name": "Acme", "time_zone": "Europe/Lisbon", "email_signature": ""},
        "",
    ),
    # The chat widget: public by design. A visitor's session token and the chat
    # inbox's allowed origins are its checks (tests/widget/ walks them); an agent's
    # session or token changes no answer. Here no chat inbox exists and no visitor
    # token is sent: the inbox is unknown, the session missing, the file link bad.
    ("GET", "/widget.js"): (everyone(200 if WIDGET_JS.exists() else 404), None, ""),
    ("GET", "/widget/config"): (everyone(404), None, "?inbox=chat_nope"),
    ("POST", "/widget/session"): (everyone(404), lambda s, d: {"inbox": "chat_nope"}, ""),
    ("GET", "/widget/events"): (everyone(401), None, "?since=0"),
    **{
        ("POST", f"/widget/{name}"): (everyone(401), lambda s, d: {}, "")
        for name in ("messages", "read", "profile", "csat", "transcript", "attachments")
    },
    ("GET", "/widget/files/{token}"): (everyone(404), None, ""),
    # Where a redirect link from a social DM leads: public by design, its signed token
    # (or the mailed one-time code) the only credential (tests/contract/test_redirects.py
    # walks real ones); one we did not sign is not found, whoever asks.
    ("GET", "/continue/{token}"): (everyone(404), None, ""),
    ("POST", "/continue/{token}/email"): (everyone(404), lambda s, d: {"email": "a@b.co"}, ""),
    ("GET", "/continue/confirm/{token}"): (everyone(404), None, ""),
    ("POST", "/continue/confirm/{token}"): (everyone(404), None, ""),
    ("POST", "/logout"): (everyone(302), None, ""),  # last: it ends the session
}


def _template(path: str) -> str:
    """``/customers/{customer_id:int}`` as the schema writes it: ``/customers/{customer_id}``."""
    return "/".join(p.split(":")[0] + "}" if p.startswith("{") else p for p in path.split("/"))


def _app_routes(c: Container) -> set[tuple[str, str]]:
    found = set()
    for route in create_app(c, manage_lifecycle=False).routes:
        handlers = getattr(route, "route_handler_map", {})
        for method, (handler, _) in handlers.items():
            docs = handler.fn.__module__.startswith("litestar.")  # the OpenAPI pages
            if method == "OPTIONS" or docs or route.path.startswith(ELSEWHERE):
                continue
            found.add((method, _template(route.path)))
    return found


async def test_the_table_covers_every_route(container: Container, served: str) -> None:
    async with httpx.AsyncClient(base_url=served) as client:
        schema = (await client.get(f"{API}/openapi.json")).json()
    documented = {
        (method.upper(), path)
        for path, ops in schema["paths"].items()
        for method in ops
        if not path.startswith(ELSEWHERE)
    }
    assert documented <= set(TABLE)
    assert _app_routes(container) | documented == set(TABLE)


def _params(side: Side, desk: Desk, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **extra,
        "customer_id": side.customer_id,
        "conversation_id": side.conversation_id,
        "task_id": side.task_id,
        "receipt_id": side.receipt_id,
        "team_id": side.team_id,
        "user_id": desk.users["agent"].id,
        "suggestion_id": side.suggestions[0],
        # an SLA policy (not an object in anyone's scope)
        "channel": "email",
        "priority": "urgent",
        "kind": "first_response",
    }


_CHAT_PAGES = ("/chat", "/chat/secret", "/chat/secret/new", "/test-page")


def _url(path: str, params: dict[str, Any], side: Side) -> str:
    if path.endswith("/dismiss"):  # the first suggestion is accepted: dismiss the other
        params = {**params, "suggestion_id": side.suggestions[1]}
    if path.startswith("/settings/inboxes/") and path.endswith(_CHAT_PAGES):
        params = {**params, "inbox_id": params["chat_inbox_id"]}
    if path.startswith("/settings/inboxes/") and path.endswith("/redirect"):
        params = {**params, "inbox_id": params["social_inbox_id"]}
    if path.startswith("/settings/rules/"):  # the API's walk deletes its own rule
        params = {**params, "rule_id": params["page_rule_id"]}
    return path.format(**params)


async def _call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: Any,
    query: str,
    headers: dict[str, str],
    *,
    signed_in: bool,
) -> int:
    if path.startswith("/widget"):
        # JSON, as the widget sends it; an agent's cookie or token is no visitor's session
        r = await client.request(method, path + query, json=body, headers=headers)
        return r.status_code
    if path.startswith("/ui/stream"):
        async with client.stream(method, path + query) as r:
            return r.status_code  # a live stream: its answer is all the table needs
    if not path.startswith(API) and method == "POST" and path not in ("/login", "/logout"):
        # A browser's form post: with the CSRF token of the page it came from.
        token = await form_token(client, "/inbox" if signed_in else "/login")
        data = {**(body or {}), "_csrf_token": token}
        return (await client.post(path + query, data=data)).status_code
    if path in ("/login", "/logout") and method == "POST":
        # the token a browser would submit: the login form's, or the signed-in page's
        token = await form_token(client, "/inbox" if signed_in else "/login")
        data = {"_csrf_token": token}
        if path == "/login":
            data |= {"email": "nobody@acme.test", "password": "wrong"}
        return (await client.post(path, data=data)).status_code
    r = await client.request(method, path + query, json=body, headers=headers)
    return r.status_code


async def _objects(c: Container, side: Side, desk: Desk) -> dict[str, Any]:
    """Path parameters the desk does not name: a message, a token, a provider."""

    def read(conn: sa.Connection) -> dict[str, Any]:
        message = conn.execute(
            sa.select(sa.func.min(messages.c.id)).where(
                messages.c.conversation_id == side.conversation_id
            )
        ).scalar()
        token = conn.execute(
            sa.select(api_tokens.c.id).where(api_tokens.c.user_id == desk.users["agent"].id)
        ).scalar()
        return {
            "message_id": message,
            "token_id": token,
            "provider": "email",
            "verdict": "dismiss",
            "merge_id": side.merge_id,
            "token": "not-a-signed-token",
        }

    found: dict[str, Any] = await c.db.read(read)
    chat = await make_inbox(c, "chat", "Site chat", f"chat-{side.email_inbox}", {})
    social = await make_inbox(c, "whatsapp", "WhatsApp", f"wa-{side.email_inbox}", {})
    rule_ids = [await c.bus.execute(lambda tx: create_rule(tx, RULE, actor_id=None)) for _ in "ab"]
    # No attachment anywhere: every role that may ask is told there is none.
    return {
        **found,
        "attachment_id": 999_999,
        "inbox_id": side.email_inbox,
        "chat_inbox_id": chat,
        "social_inbox_id": social,
        "rule_id": rule_ids[0],
        "page_rule_id": rule_ids[1],
    }


@pytest.mark.parametrize("role", ROLES)
async def test_every_route_answers_each_role_as_the_table_says(
    container: Container, served: str, role: str
) -> None:
    desk = await build_desk(container)
    user = desk.users.get("restricted" if role == "outsider" else role)
    # Rosa works Billing; as the outsider she names Sales's objects.
    side = desk.sales if role == "outsider" else desk.billing
    params = _params(side, desk, await _objects(container, side, desk))
    got, expected = {}, {}
    async with httpx.AsyncClient(base_url=served, follow_redirects=False) as client:
        headers: dict[str, str] = {}
        if user is not None:
            await ui_login(client, user.email, PASSWORD)
            headers = {"Authorization": f"Bearer {user.token}"}
        for (method, path), (row, body, query) in TABLE.items():
            key = f"{method} {path}"
            url = _url(path, params, side)
            query = query.format(**params)
            payload = body(side, desk) if body is not None else None
            got[key] = await _call(
                client, method, url, payload, query, headers, signed_in=user is not None
            )
            expected[key] = row[role]
    assert got == expected


async def test_every_list_shows_the_restricted_agent_only_her_teams_objects(
    container: Container, served: str
) -> None:
    desk = await build_desk(container)
    billing, sales = desk.billing, desk.sales
    rosa = {"Authorization": f"Bearer {desk.users['restricted'].token}"}
    sam = {"Authorization": f"Bearer {desk.users['agent'].token}"}

    async def ids(client: httpx.AsyncClient, path: str, key: str, headers: Any) -> set[int]:
        r = await client.get(f"{API}{path}", headers=headers)
        assert r.status_code == 200, r.text
        group, _, key = key.rpartition(".")  # search answers in groups
        return {x[key] for x in (r.json()[group]["hits"] if group else r.json())}

    lists = [
        ("/conversations", "id", billing.conversation_id, sales.conversation_id),
        ("/customers", "id", billing.customer_id, sales.customer_id),
        ("/tasks", "id", billing.task_id, sales.task_id),
        ("/inboxes", "id", billing.email_inbox, sales.email_inbox),
        ("/search?q=order", "messages.customer_id", billing.customer_id, sales.customer_id),
        ("/search?q=order", "conversations.id", billing.conversation_id, sales.conversation_id),
        ("/search?q=ana", "customers.id", billing.customer_id, sales.customer_id),
    ]
    async with httpx.AsyncClient(base_url=served) as client:
        for path, key, mine, theirs in lists:
            seen = await ids(client, path, key, rosa)
            assert mine in seen, path
            assert theirs not in seen, path
            assert {mine, theirs} <= await ids(client, path, key, sam), path
