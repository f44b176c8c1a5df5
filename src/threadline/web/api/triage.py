"""Triage through the API: classify a text without storing anything (to test the
lexicon), and correct a conversation's triage decision."""

from __future__ import annotations

from litestar import post
from litestar.params import JSONBody

from threadline.core.model import Channel
from threadline.core.triage import Decision, classify
from threadline.web.api.common import Req, container_of
from threadline.web.auth import require_agent
from threadline.web.schemas import TriageIn, TriageResult

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
    lexicon = container_of(request).bus.cfg.lexicon
    reachable = None if data.reachable is None else [Channel(c) for c in data.reachable]
    return result_of(classify(data.text, Channel(data.channel), lexicon, reachable=reachable))


TRIAGE_ROUTES = [post_triage]
