"""Settings: routing rules, edited as JSON, switched on and off, and put in order.

Each save is a new version (actions/rules.py); the JSON is the same shape as the
API's (docs/rules.md), checked by core/rules_parse.py, whose message names the
place of a mistake.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError, NotFound
from threadline.actions.rules import (
    create_rule,
    delete_rule,
    order_rules,
    set_rule_enabled,
    update_rule,
)
from threadline.queries.rules import list_rules
from threadline.storage.db import Tx
from threadline.web.api.params import Id
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import (
    admin_view,
    done,
    error_status,
    execute,
    read_form,
    require_admin,
    settings_page,
)

__all__ = ["ROUTES"]

PAGE = "/settings/rules"
MAX_JSON = 64 * 1024  # one rule, written out: far more than the parser's bounds allow
EXAMPLE = {
    "name": "Card problems to billing",
    "events": ["message_received"],
    "conditions": [{"channel": ["email", "chat"]}, {"text": ["card declined", "refund"]}],
    "actions": [{"add_tag": "billing"}, {"set_priority": "high"}],
    "stop": False,
}


def _as_json(rule: dict[str, Any]) -> str:
    shown = {k: rule[k] for k in ("name", "enabled", "events", "conditions", "actions", "stop")}
    return json.dumps(shown, indent=2, ensure_ascii=False)


async def _rules(
    request: Req, agent: Agent, *, error: str | None = None, status_code: int = 200, **extra: Any
) -> Template:
    rules = await container(request).db.read(list_rules)
    for rule in rules:
        rule["json"] = _as_json(rule)
    return await settings_page(
        request,
        agent,
        "ui/settings/rules.html",
        error=error,
        status_code=status_code,
        rules=rules,
        example=json.dumps(EXAMPLE, indent=2),
        **extra,
    )


def _parsed(text: str) -> dict[str, Any]:
    if len(text) > MAX_JSON:
        raise ActionError(f"a rule is at most {MAX_JSON // 1024} KB of JSON")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ActionError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ActionError("a rule is a JSON object")
    return data


@get(PAGE, include_in_schema=False)
async def rules_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _rules)


@post(PAGE, include_in_schema=False, status_code=200)
async def add_rule(request: Req) -> Template | Redirect:
    agent = await require_admin(request)
    text = (await read_form(request)).raw("rule", MAX_JSON)
    try:
        data = _parsed(text)
        rule_id = await container(request).bus.execute(
            lambda tx: create_rule(tx, data, actor_id=agent.id)
        )
    except ActionError as exc:
        return await _rules(
            request, agent, error=str(exc), status_code=error_status(exc), typed_rule=text
        )
    return done(PAGE, "rule_added", f"#rule-{rule_id}")


@post(f"{PAGE}/{{rule_id:int}}", include_in_schema=False, status_code=200)
async def save_rule(request: Req, rule_id: Id) -> Template | Redirect:
    agent = await require_admin(request)
    text = (await read_form(request)).raw("rule", MAX_JSON)
    try:
        data = _parsed(text)
        await execute(request, lambda tx: update_rule(tx, rule_id, data, actor_id=agent.id))
    except ActionError as exc:
        return await _rules(request, agent, error=str(exc), status_code=error_status(exc))
    return done(PAGE, "rule_saved", f"#rule-{rule_id}")


@post(f"{PAGE}/{{rule_id:int}}/enabled", include_in_schema=False, status_code=200)
async def switch_rule(request: Req, rule_id: Id) -> Redirect:
    agent = await require_admin(request)
    on = (await read_form(request)).flag("enabled")
    await container(request).bus.execute(
        lambda tx: set_rule_enabled(tx, rule_id, on, actor_id=agent.id)
    )
    return done(PAGE, "rule_enabled" if on else "rule_disabled", f"#rule-{rule_id}")


@post(f"{PAGE}/{{rule_id:int}}/move", include_in_schema=False, status_code=200)
async def move_rule(request: Req, rule_id: Id) -> Redirect:
    """One step up or down: the new order of every rule, saved at once."""
    agent = await require_admin(request)
    up = (await read_form(request)).text("direction", 10) == "up"

    def move(tx: Tx) -> None:
        ids = [r["id"] for r in list_rules(tx.conn)]
        if rule_id not in ids:
            raise NotFound(f"rule {rule_id} not found")
        at = ids.index(rule_id)
        to = max(at - 1, 0) if up else min(at + 1, len(ids) - 1)
        ids[at], ids[to] = ids[to], ids[at]
        order_rules(tx, ids, actor_id=agent.id)

    await container(request).bus.execute(move)
    return done(PAGE, "rule_moved", f"#rule-{rule_id}")


@post(f"{PAGE}/{{rule_id:int}}/delete", include_in_schema=False, status_code=200)
async def remove_rule(request: Req, rule_id: Id) -> Redirect:
    agent = await require_admin(request)
    await container(request).bus.execute(lambda tx: delete_rule(tx, rule_id, actor_id=agent.id))
    return done(PAGE, "rule_deleted")


ROUTES = [rules_page, add_rule, save_rule, switch_rule, move_rule, remove_rule]
