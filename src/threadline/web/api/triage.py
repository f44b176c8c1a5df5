"""Triage through the API: classify a text without storing anything (to test the
lexicon), and correct a conversation's triage decision."""

from __future__ import annotations

from litestar import patch, post
from litestar.params import JSONBody

from threadline.actions.triage import correct_triage
from threadline.core.model import Channel
from threadline.core.triage import Decision, classify
from threadline.queries.scope import access_conversation
from threadline.queries.triage import latest_triage
from threadline.web.api.common import Req, container_of, found_or_404, scope_of
from threadline.web.api.params import Id
from threadline.web.auth import require_agent
from threadline.web.schemas import (
    TriageCorrection,
    TriageDecision,
    TriageIn,
    TriageResult,
    to_model,
)

__all__ = ["TRIAGE_ROUTES", "result_of"]


def result_of(decision: Decision) -> TriageResult:
    return TriageResult(
        category=decision.category.value,
        urgent=decision.urgent,
        sensitive=decision.sensitive,
        recommended_channel=decision.channel.value if decision.channel else None,
        reasons=list(decision.reasons),
    )


@post(
    "/triage",
    guards=[require_agent],
    status_code=200,
    request_max_body_size=64 * 1024,
    summary="Classify a text as if it came in on a channel; nothing is stored",
    description=(
        "The same triage every inbound message gets (category, urgency, sensitivity, "
        "the recommended reply channel and the reasons), with the workspace's lexicon. "
        "`reachable` limits the recommended channel to those the customer has."
    ),
)
async def post_triage(request: Req, data: JSONBody[TriageIn]) -> TriageResult:
    c = container_of(request)
    lexicon = await c.db.read(lambda conn: c.bus.cfg.lexicons.current(conn, c.bus.cfg.lexicon))
    reachable = None if data.reachable is None else [Channel(c) for c in data.reachable]
    return result_of(classify(data.text, Channel(data.channel), lexicon, reachable=reachable))


@patch(
    "/conversations/{conversation_id:int}/triage",
    guards=[require_agent],
    summary="Correct the conversation's triage: category, urgent, sensitive",
    description=(
        "Only what is given changes. The correction is recorded (who, when, from → to) "
        "as the conversation's latest decision and on its timeline; a corrected category "
        "stays through later messages. 422 before the conversation's first triage."
    ),
)
async def patch_triage(
    request: Req, conversation_id: Id, data: JSONBody[TriageCorrection]
) -> TriageDecision:
    c = container_of(request)
    scope = await scope_of(request)
    actor = request.user.id
    await c.bus.execute(
        lambda tx: correct_triage(
            tx,
            access_conversation(tx.conn, scope, conversation_id),
            actor_id=actor,
            category=data.category,
            urgent=data.urgent,
            sensitive=data.sensitive,
        )
    )
    row = await c.db.read(lambda conn: latest_triage(conn, conversation_id))
    return to_model(found_or_404(row, "triage decision"), TriageDecision)


TRIAGE_ROUTES = [post_triage, patch_triage]
