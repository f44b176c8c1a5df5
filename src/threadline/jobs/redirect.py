"""The ``redirect`` job: answer an account question on a social DM with the way to
a verified channel (actions/redirects.py decides and writes).

The inbox's settings are read from the loaded inboxes (their config, opened in one
place); the job is completed in the unit of work that sends the reply, so a crash
before the commit runs it again and one after it never repeats the reply.
"""

from __future__ import annotations

import structlog

from threadline.actions.redirects import send_redirect
from threadline.bus import Bus
from threadline.core.redirect import RedirectConfig, RedirectConfigError, parse_redirect_config
from threadline.jobs import queue
from threadline.jobs.queue import Job
from threadline.settings import Settings
from threadline.storage.db import Tx
from threadline.storage.tables import messages

__all__ = ["SendRedirect"]

log = structlog.get_logger(__name__)


class SendRedirect:
    def __init__(self, bus: Bus, settings: Settings) -> None:
        self.bus, self.settings = bus, settings

    async def config(self, message_id: int) -> RedirectConfig:
        inbox_id = await self.bus.db.read(
            lambda conn: conn.execute(
                messages.select()
                .with_only_columns(messages.c.inbox_id)
                .where(messages.c.id == message_id)
            ).scalar()
        )
        try:
            inbox = await self.bus.inbox(int(inbox_id)) if inbox_id is not None else None
        except LookupError:
            inbox = None
        if inbox is None:
            return RedirectConfig(enabled=False)
        try:
            return parse_redirect_config(inbox.config.get("redirect"))
        except RedirectConfigError:
            # Stored through the settings page, which checks it; a hand-edited one
            # that does not parse sends nothing rather than a broken reply.
            log.warning("redirect.bad_config", inbox=inbox_id)
            return RedirectConfig(enabled=False)

    async def __call__(self, job: Job) -> None:
        message_id = int(job.payload["message_id"])
        config = await self.config(message_id)
        cfg, base = self.bus.cfg, self.settings.base_url()

        def run(tx: Tx) -> str:
            queue.complete(tx, job.id)
            return send_redirect(tx, cfg, message_id=message_id, config=config, base_url=base)

        outcome = await self.bus.execute(run)
        log.info("redirect.done", message=message_id, outcome=outcome)
