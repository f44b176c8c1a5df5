"""The composition root: settings in, a wired container out. Tests pass overrides."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from threadline.actions.assignment import ASSIGN_JOB
from threadline.actions.assignment_queue import SWEEP_JOB
from threadline.actions.chat_mail import FOLLOWUP_JOB, TRANSCRIPT_JOB
from threadline.actions.chat_missed import MISSED_JOB, NOTIFY_JOB
from threadline.actions.config import ActionConfig
from threadline.actions.conversations import WAKE_JOB
from threadline.actions.inboxes import seal_inbox_secrets
from threadline.actions.off_hours import OFF_HOURS_JOB
from threadline.actions.redirects import REDIRECT_JOB
from threadline.actions.rule_queue import RULES_JOB
from threadline.actions.rule_sweep import SWEEP_JOB as TIME_PASSED_SWEEP
from threadline.actions.rule_sweep import start_sweeps
from threadline.actions.sla_clock import SLA_JOB
from threadline.bus import Bus
from threadline.channels import registry
from threadline.channels.email.adapter import OutboxSender, SmtpRelay, SmtpSender
from threadline.channels.email.mailbox import imap_config, mailbox_poller
from threadline.clock import Clock, SystemClock
from threadline.core.continuity import Policy
from threadline.core.throttle import ThrottleMemo
from threadline.handlers import HandlerDeps
from threadline.jobs.assignment import Assign, AssignSweep
from threadline.jobs.chat_mail import ChatFollowup, ChatMissed, ChatTranscript, NotifyEmail
from threadline.jobs.delivery import Delivery
from threadline.jobs.off_hours import OffHoursReply
from threadline.jobs.redirect import SendRedirect
from threadline.jobs.rules import RunRules, TimePassedSweep
from threadline.jobs.runner import JobRunner
from threadline.jobs.sla import SlaTimer
from threadline.jobs.snooze import Wake
from threadline.passwords import Passwords
from threadline.ports import Broker, Presence, Sender
from threadline.realtime.memory import MemoryBroker
from threadline.realtime.presence import MemoryPresence
from threadline.realtime.redis_broker import RedisBroker
from threadline.realtime.redis_presence import RedisPresence
from threadline.settings import Settings
from threadline.storage.db import Database
from threadline.storage.private import make_private

__all__ = ["Container", "bootstrap"]


@dataclass
class Container:
    settings: Settings
    clock: Clock
    db: Database
    bus: Bus
    broker: Broker
    presence: Presence
    runner: JobRunner
    senders: Mapping[str, Sender]
    http: httpx.AsyncClient
    passwords: Passwords = field(default_factory=Passwords)
    login_waits: ThrottleMemo = field(default_factory=ThrottleMemo)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event | None = None

    async def start(self, *, jobs: bool = True, mailboxes: bool | None = None) -> None:
        """Start the writer and the broker; the job runner and IMAP pollers unless told not to."""
        self.db.start()
        await self.broker.start()
        # Inboxes stored before secrets were encrypted get sealed now (a no-op after).
        secret = self.bus.cfg.secret_key
        await self.bus.execute(lambda tx: seal_inbox_secrets(tx, secret=secret))
        await self.bus.reload_inboxes()
        # Sweeps of time_passed rules are a chain of jobs; one is queued in case the
        # chain stopped (its key makes it the one already queued, if any).
        every = timedelta(seconds=self.bus.cfg.time_passed_every)
        await self.bus.execute(lambda tx: start_sweeps(tx, every))
        self._stop = asyncio.Event()
        if jobs:
            self._tasks.append(asyncio.create_task(self.runner.run(self._stop)))
        if mailboxes if mailboxes is not None else jobs:
            for inbox in await self.bus.all_inboxes():
                config = imap_config(inbox) if inbox.channel == "email" else None
                if config is not None:
                    poller = mailbox_poller(
                        self.bus, inbox, config, max_bytes=self.settings.email_max_bytes
                    )
                    self._tasks.append(asyncio.create_task(poller.run(self._stop)))

    async def aclose(self) -> None:
        if self._stop is not None:
            self._stop.set()
        for task in self._tasks:
            await task
        self._tasks.clear()
        await self.broker.aclose()
        await self.presence.aclose()
        await self.http.aclose()
        self.bus.close()
        self.db.close()


def default_senders(settings: Settings) -> dict[str, Sender]:
    if settings.sandbox_outbox is not None:
        return {"email": OutboxSender(settings.sandbox_outbox)}
    relay = None
    if settings.relay_host:
        relay = SmtpRelay(
            host=settings.relay_host,
            port=settings.relay_port,
            username=settings.relay_username,
            password=settings.relay_password,
            starttls=settings.relay_starttls,
        )
    return {"email": SmtpSender(relay)}


def default_broker(settings: Settings) -> Broker:
    """Redis when THREADLINE_REDIS_URL is set (several processes), else in-process."""
    return RedisBroker(settings.redis_url) if settings.redis_url else MemoryBroker()


def default_presence(settings: Settings, clock: Clock) -> Presence:
    if settings.redis_url:
        return RedisPresence(settings.redis_url, clock)
    return MemoryPresence(clock)


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    senders: Mapping[str, Sender] | None = None,
    broker: Broker | None = None,
    presence: Presence | None = None,
) -> Container:
    settings = settings or Settings()
    clock = clock or SystemClock()
    make_private(settings.data_dir, settings.database_url)
    db = Database(settings.database_url, clock)
    cfg = ActionConfig(
        secret_key=settings.resolved_secret(),
        continuity=Policy(reopen_window=timedelta(days=settings.reopen_days)),
        attachment_dir=None if settings.attachments_in_db else settings.data_dir / "attachments",
        chat_followup_seconds=settings.chat_followup_seconds,
        time_passed_every=settings.rules_sweep_seconds,
        time_passed_batch=settings.rules_sweep_batch,
    )
    broker = broker or default_broker(settings)
    presence = presence or default_presence(settings, clock)
    parsers = registry.parsers()
    holder: list[JobRunner] = []
    deps = HandlerDeps(broker=broker, wake_jobs=lambda: holder[0].wake() if holder else None)
    bus = Bus(db, cfg, parsers, deps)
    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))
    context = registry.SenderContext(http=http, sandbox_base=f"{settings.base_url()}/sandbox")
    overrides = dict(senders) if senders is not None else default_senders(settings)
    all_senders = registry.senders(context, overrides)
    delivery = Delivery(bus, all_senders, public_base=settings.base_url())
    transcript = ChatTranscript(bus, all_senders, settings)
    runs = RunRules(bus)
    runner = JobRunner(
        bus,
        {
            "deliver": delivery,
            WAKE_JOB: Wake(bus),
            FOLLOWUP_JOB: ChatFollowup(bus, settings),
            TRANSCRIPT_JOB: transcript,
            MISSED_JOB: ChatMissed(bus, settings),
            NOTIFY_JOB: NotifyEmail(bus, all_senders),
            SLA_JOB: SlaTimer(bus),
            RULES_JOB: runs,
            TIME_PASSED_SWEEP: TimePassedSweep(bus, runs),
            ASSIGN_JOB: Assign(bus, presence),
            SWEEP_JOB: AssignSweep(bus, presence),
            REDIRECT_JOB: SendRedirect(bus, settings),
            OFF_HOURS_JOB: OffHoursReply(bus, presence),
        },
        on_give_up={"deliver": delivery.give_up, TRANSCRIPT_JOB: transcript.give_up},
    )
    holder.append(runner)
    passwords = Passwords.from_settings(settings)
    return Container(
        settings, clock, db, bus, broker, presence, runner, all_senders, http, passwords
    )
