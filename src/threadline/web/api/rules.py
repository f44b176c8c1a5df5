"""Routing rules over the API: everyone signed in reads them, admins write them.

A rule's conditions and actions are checked by core/rules_parse.py (docs/rules.md
lists them); a refused rule answers 422 with the path of the problem.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import delete, get, post, put
from litestar.params import JSONBody

from threadline.actions.rules import (
    create_rule,
    delete_rule,
    order_rules,
    set_rule_enabled,
    update_rule,
)
from threadline.bootstrap import Container
from threadline.core.rules_eval import MAX_RULES
from threadline.core.rules_parse import MAX_ACTIONS, MAX_CONDITIONS, MAX_NAME_LENGTH
from threadline.queries.rules import list_rules, rule_detail, rule_versions_of
from threadline.web.api.common import Req, container_of, found_or_404
from threadline.web.api.params import Id
from threadline.web.auth import require_admin
from threadline.web.schemas import to_model

__all__ = [
    "ROUTES",
    "Rule",
    "RuleDeleted",
    "RuleEnabledIn",
    "RuleIn",
    "RuleOrderIn",
    "RuleVersion",
]

Json = dict[str, Any]


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    """A rule as written: each condition names one fact, each action one kind."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_LENGTH)]
    events: Annotated[list[str], msgspec.Meta(min_length=1, max_length=6)]
    actions: Annotated[list[Json], msgspec.Meta(min_length=1, max_length=MAX_ACTIONS)]
    conditions: Annotated[list[Json], msgspec.Meta(max_length=MAX_CONDITIONS)] = msgspec.field(
        default_factory=list
    )
    enabled: bool = True
    stop: bool = False
    position: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None = None


class RuleEnabledIn(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool


class RuleOrderIn(msgspec.Struct, forbid_unknown_fields=True):
    rule_ids: Annotated[list[int], msgspec.Meta(max_length=MAX_RULES)]


class Rule(msgspec.Struct):
    id: int
    name: str
    enabled: bool
    position: int
    version: int
    events: list[str]
    conditions: list[Json]
    actions: list[Json]
    stop: bool
    created_at: datetime
    updated_at: datetime


class RuleDeleted(msgspec.Struct):
    id: int
    deleted_at: datetime


class RuleVersion(msgspec.Struct):
    rule_id: int
    version: int
    name: str
    enabled: bool
    events: list[str]
    conditions: list[Json]
    actions: list[Json]
    stop: bool
    created_at: datetime
    created_by: int | None


def _body(data: RuleIn) -> Json:
    body = msgspec.structs.asdict(data)
    if body["position"] is None:
        del body["position"]
    return body


async def _rule(c: Container, rule_id: int) -> Rule:
    found = await c.db.read(lambda conn: rule_detail(conn, rule_id))
    return to_model(found_or_404(found, f"rule {rule_id}"), Rule)


@get("/rules", summary="The routing rules, in the order they run")
async def get_rules(request: Req) -> list[Rule]:
    return to_model(await container_of(request).db.read(list_rules), list[Rule])


@post("/rules", guards=[require_admin], summary="Add a rule (after the others by default)")
async def post_rule(request: Req, data: JSONBody[RuleIn]) -> Rule:
    c = container_of(request)
    actor = request.user.id
    rule_id = await c.bus.execute(lambda tx: create_rule(tx, _body(data), actor_id=actor))
    return await _rule(c, rule_id)


@put("/rules/order", guards=[require_admin], summary="Put every rule in a new order")
async def put_rule_order(request: Req, data: JSONBody[RuleOrderIn]) -> list[Rule]:
    c = container_of(request)
    actor = request.user.id
    await c.bus.execute(lambda tx: order_rules(tx, data.rule_ids, actor_id=actor))
    return to_model(await c.db.read(list_rules), list[Rule])


@get("/rules/{rule_id:int}", summary="One rule, as it is now")
async def get_rule(request: Req, rule_id: Id) -> Rule:
    return await _rule(container_of(request), rule_id)


@get("/rules/{rule_id:int}/versions", summary="Every version of a rule, newest first")
async def get_rule_versions(request: Req, rule_id: Id) -> list[RuleVersion]:
    rows = await container_of(request).db.read(lambda conn: rule_versions_of(conn, rule_id))
    return to_model(found_or_404(rows or None, f"rule {rule_id}"), list[RuleVersion])


@put("/rules/{rule_id:int}", guards=[require_admin], summary="Edit a rule (a new version)")
async def put_rule(request: Req, rule_id: Id, data: JSONBody[RuleIn]) -> Rule:
    c = container_of(request)
    actor = request.user.id
    await c.bus.execute(lambda tx: update_rule(tx, rule_id, _body(data), actor_id=actor))
    return await _rule(c, rule_id)


@put(
    "/rules/{rule_id:int}/enabled",
    guards=[require_admin],
    summary="Enable or disable a rule (a new version)",
)
async def put_rule_enabled(request: Req, rule_id: Id, data: JSONBody[RuleEnabledIn]) -> Rule:
    c = container_of(request)
    actor = request.user.id
    await c.bus.execute(lambda tx: set_rule_enabled(tx, rule_id, data.enabled, actor_id=actor))
    return await _rule(c, rule_id)


@delete(
    "/rules/{rule_id:int}",
    guards=[require_admin],
    status_code=200,
    summary="Delete a rule: it stops running; its versions stay for the timeline",
)
async def delete_rule_route(request: Req, rule_id: Id) -> RuleDeleted:
    c = container_of(request)
    actor = request.user.id
    await c.bus.execute(lambda tx: delete_rule(tx, rule_id, actor_id=actor))
    return RuleDeleted(id=rule_id, deleted_at=c.clock.now())


ROUTES = [
    get_rules,
    post_rule,
    put_rule_order,
    get_rule,
    get_rule_versions,
    put_rule,
    put_rule_enabled,
    delete_rule_route,
]
