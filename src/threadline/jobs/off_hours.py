"""The ``off_hours_reply`` job: acknowledge a message that arrived while its inbox
was closed (actions/off_hours.py decides and sends, once per closed period).

Presence lives outside the database, so a chat's "is someone who answers it
online" is read here, before the transaction: an agent working late answers the
chat themselves, and the widget's header already says when we are back.
"""

from __future__ import annotations

import structlog

from threadline.actions.off_hours import send_off_hours_reply
from threadline.bus import Bus
from threadline.jobs.queue import Job, complete
from threadline.ports import Presence
from threadline.queries.chat import can_answer
from threadline.storage.db import Tx

__all__ = ["OffHoursReply"]

log = structlog.get_logger(__name__)


class OffHoursReply:
    def __init__(self, bus: Bus, presence: Presence) -> None:
        self.bus = bus
        self.presence = presence

    async def _chat_answered(self, inbox_id: int) -> bool:
        states = await self.presence.states()
        online = [user for user, state in states.items() if state == "online"]
        if not online:
            return False
        now = self.bus.db.clock.now()
        return bool(await self.bus.db.read(lambda conn: can_answer(conn, online, inbox_id, now)))

    async def __call__(self, job: Job) -> None:
        payload = job.payload
        inbox_id = int(payload["inbox_id"])
        chat = payload.get("channel") == "chat"
        agent_online = chat and await self._chat_answered(inbox_id)
        cfg = self.bus.cfg

        def run(tx: Tx) -> str:
            # In the same unit of work as the reply: a crash before the commit runs
            # the job again, and after it the job is done and the row is there.
            complete(tx, job.id)
            return send_off_hours_reply(tx, cfg, payload, agent_online=agent_online)

        outcome = await self.bus.execute(run)
        log.info("off_hours.reply", conversation=payload.get("conversation_id"), outcome=outcome)
