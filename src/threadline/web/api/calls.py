"""The REST API for calls: logging a call by hand, callback tasks, going on duty."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from litestar import Response, get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromQuery, JSONBody
from sqlalchemy.engine import Connection

from threadline.actions.agents import set_duty
from threadline.actions.calls import complete_task, log_call
from threadline.queries.conversations import conversation_detail
from threadline.queries.customers import customer_detail
from threadline.queries.scope import Scope, access_task
from threadline.storage.tables import customers, identities, tasks
from threadline.web.api.common import Req, container_of, scope_of
from threadline.web.api.paging import PAGED, decode_cursor, page
from threadline.web.api.params import Cursor, Id, page_size
from threadline.web.auth import require_agent
from threadline.web.schemas import BodyId, Call, Duty, Task, to_model

__all__ = ["ROUTES", "CallIn", "DutyIn"]

TaskStatus = Literal["open", "done", "cancelled", "all"]


class CallIn(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: BodyId
    direction: Literal["inbound", "outbound"]
    notes: str
    conversation_id: BodyId | None = None
    duration_seconds: int | None = None


class DutyIn(msgspec.Struct, forbid_unknown_fields=True):
    on_duty: bool
    phone: str | None = None  # E.164; an empty string removes it


# -- calls ------------------------------------------------------------------------------
@post("/calls", guards=[require_agent], summary="Log a call made or taken outside Threadline")
async def post_call(request: Req, data: JSONBody[CallIn]) -> Call:
    c = container_of(request)
    if data.duration_seconds is not None and data.duration_seconds < 0:
        raise ValidationException("duration_seconds cannot be negative")
    scope = await scope_of(request)
    customer = await c.db.read(lambda conn: customer_detail(conn, data.customer_id, scope=scope))
    if customer is None:
        raise NotFoundException(f"customer {data.customer_id} not found")
    if data.conversation_id is not None:
        conversation_id = data.conversation_id
        conv = await c.db.read(lambda conn: conversation_detail(conn, conversation_id, scope=scope))
        if conv is None:
            raise NotFoundException(f"conversation {conversation_id} not found")
        if conv["customer_id"] != data.customer_id:
            raise ValidationException("the conversation belongs to another customer")
    call_id = await c.bus.execute(
        lambda tx: log_call(
            tx,
            customer_id=data.customer_id,
            conversation_id=data.conversation_id,
            direction=data.direction,
            duration_seconds=data.duration_seconds,
            notes=data.notes,
            actor_id=request.user.id,
        )
    )
    return Call(
        id=call_id,
        customer_id=data.customer_id,
        conversation_id=data.conversation_id,
        direction=data.direction,
        duration_seconds=data.duration_seconds,
        notes=data.notes,
    )


# -- tasks ------------------------------------------------------------------------------
def _task_columns() -> list[Any]:
    # The number to call back: the customer's first phone identity.
    phone = (
        sa.select(identities.c.value)
        .where(identities.c.customer_id == tasks.c.customer_id, identities.c.kind == "phone")
        .order_by(identities.c.id)
        .limit(1)
        .scalar_subquery()
    )
    return [
        *tasks.c,
        customers.c.name.label("customer_name"),
        phone.label("phone"),
    ]


def _task_dict(row: Any) -> dict[str, Any]:
    due_at: datetime = row.due_at
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "due_at": due_at,
        "customer_id": row.customer_id,
        "customer_name": row.customer_name,
        "phone": row.phone,
        "conversation_id": row.conversation_id,
        "call_id": row.call_id,
        "assignee_id": row.assignee_id,
        "created_at": row.created_at,
        "done_at": row.done_at,
    }


def _tasks(
    conn: Connection,
    status: str | None,
    limit: int,
    scope: Scope,
    after: tuple[datetime, int] | None = None,
) -> list[dict[str, Any]]:
    q = (
        sa.select(*_task_columns())
        .join(customers, customers.c.id == tasks.c.customer_id)
        .order_by(tasks.c.due_at, tasks.c.id)
        .limit(limit)
    )
    if status is not None:
        q = q.where(tasks.c.status == status)
    if (in_scope := scope.conversation_ids_clause(tasks.c.conversation_id)) is not None:
        q = q.where(in_scope)
    if after is not None:  # the last row's (due_at, id): ties are neither repeated nor skipped
        q = q.where(
            sa.or_(
                tasks.c.due_at > after[0],
                sa.and_(tasks.c.due_at == after[0], tasks.c.id > after[1]),
            )
        )
    return [_task_dict(r) for r in conn.execute(q)]


def _task(conn: Connection, task_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(*_task_columns())
        .join(customers, customers.c.id == tasks.c.customer_id)
        .where(tasks.c.id == task_id)
    ).first()
    return None if row is None else _task_dict(row)


@get("/tasks", response_headers=PAGED, summary="Tasks (callbacks owed), soonest due first")
async def get_tasks(
    request: Req,
    status: FromQuery[TaskStatus] = "open",
    cursor: Cursor = None,
    limit: Annotated[int, page_size(100, 500)] = 100,
) -> Response[list[Task]]:
    wanted = None if status == "all" else status
    scope = await scope_of(request)
    after = decode_cursor(cursor, tuple[datetime, int])
    rows = await container_of(request).db.read(
        lambda conn: _tasks(conn, wanted, limit + 1, scope, after)
    )
    return page(rows, limit, lambda r: (r["due_at"], r["id"]), Task)


@post(
    "/tasks/{task_id:int}/done", guards=[require_agent], status_code=200, summary="Mark a task done"
)
async def post_task_done(request: Req, task_id: Id) -> Task:
    c = container_of(request)
    scope = await scope_of(request)
    await c.bus.execute(
        lambda tx: complete_task(tx, access_task(tx.conn, scope, task_id), actor_id=request.user.id)
    )
    task = await c.db.read(lambda conn: _task(conn, task_id))
    if task is None:
        raise NotFoundException(f"task {task_id} not found")
    return to_model(task, Task)


# -- duty -------------------------------------------------------------------------------
@post(
    "/agents/me/duty",
    guards=[require_agent],
    status_code=200,
    summary="Go on or off duty; inbound calls ring the phones of agents on duty",
)
async def post_duty(request: Req, data: JSONBody[DutyIn]) -> Duty:
    duty = await container_of(request).bus.execute(
        lambda tx: set_duty(tx, request.user.id, on_duty=data.on_duty, phone=data.phone)
    )
    return Duty(user_id=duty.user_id, on_duty=duty.on_duty, phone=duty.phone)


ROUTES = [post_call, get_tasks, post_task_done, post_duty]
