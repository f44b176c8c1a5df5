"""Settings from flags and THREADLINE_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="THREADLINE_", extra="ignore")

    database_url: str = "sqlite:///threadline.db"
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525  # 0 turns the built-in SMTP server off
    public_url: str | None = None  # what providers and links see, behind a proxy
    secret_key: str | None = None  # signs reply tokens and sessions; see resolved_secret()
    data_dir: Path = Path(".")
    # Files on disk by content hash: a 25 MB attachment in the database passes through
    # the one writer and the WAL, and the parse worker cannot store it itself.
    attachments_in_db: bool = False
    reopen_days: float = 7.0
    relay_host: str | None = None  # outbound SMTP relay for email replies
    relay_port: int = 587
    relay_username: str | None = None
    relay_password: str | None = None
    relay_starttls: bool | None = None
    sandbox_outbox: Path | None = None  # write outbound email here instead of sending
    # Inbound email size cap, over SMTP, the email webhook and IMAP. Gmail and
    # Microsoft 365 accept 25 MB of attachments, which base64 makes about 35 MB.
    email_max_bytes: int = 36 * 1024 * 1024
    # The SMTP server checks SPF, DKIM and DMARC itself (it is the MX). Turn off
    # behind a relay: SPF would judge the relay, and the relay's own
    # Authentication-Results are read instead.
    smtp_check_senders: bool = True
    run_jobs: bool = True
    log_level: str = "info"
    # The local stand-ins for Twilio, Meta and Telegram under /sandbox/ (demo and
    # trials only: they accept whoever holds a sandbox inbox's credentials).
    sandbox: bool = False
    # Proxies whose X-Forwarded-For we believe (IP addresses); otherwise the
    # client address is the socket peer, as the login throttle must see it.
    trusted_proxies: list[str] = []
    # argon2id for agents' passwords: OWASP's 19 MiB, 2 passes, 1 lane
    # (docs/decisions/0005). Each hash or check holds memory_kib of RAM, so at
    # most hash_concurrency run at once and hash_queue more may wait.
    password_time_cost: int = 2
    password_memory_kib: int = 19456
    password_parallelism: int = 1
    password_hash_concurrency: int = 2
    password_hash_queue: int = 16
    session_hours: float = 12.0
    # Sign-in throttle: past this many failures in the window, each further try
    # waits twice as long as the last (from login_backoff_seconds up to the window).
    login_window_minutes: float = 15.0
    login_max_failures_per_account: int = 5
    login_max_failures_per_client: int = 20
    login_backoff_seconds: float = 30.0
    # Requests to /login per client address, refused before anything else runs:
    # a burst, then this many a minute. No person signing in comes near it.
    login_requests_burst: int = 20
    login_requests_per_minute: float = 20.0
    # A refused request's answer is held this long: it slows a guessing tool that
    # waits for each answer to a rate that costs nothing to refuse (web/ratelimit.py).
    login_refusal_hold_seconds: float = 1.0
    # The business profile's defaults until an admin saves one under Settings
    # (queries/profile.py): the name customers know, the time zone agents work
    # in, and the signature under email replies.
    business_name: str | None = None
    business_time_zone: str = "UTC"
    business_signature: str | None = None
    # Live chat: an agent's reply the visitor has not read this many seconds
    # later, with no widget of theirs heard from in that time, is mailed to
    # them (docs/widget.md). At least a minute: a widget that is open pings
    # every 25 s and is heard from at least every 50 s.
    chat_followup_seconds: float = Field(default=120.0, ge=60.0, le=7 * 86400.0)
    # Rules listening to time_passed ("pending for 72 hours") are checked by a sweep
    # this often, reading at most this many conversations per job (docs/rules.md).
    rules_sweep_seconds: float = Field(default=60.0, ge=10.0, le=3600.0)
    rules_sweep_batch: int = Field(default=500, ge=1, le=10_000)

    def base_url(self) -> str:
        """Our own address as providers and links see it."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def secure_cookies(self) -> bool:
        """Browsers reach us over https: cookies must never travel in clear."""
        return (self.public_url or "").lower().startswith("https://")

    def resolved_secret(self) -> str:
        """The configured secret, or one kept in the data dir so tokens survive restarts."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "threadline.secret"
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(32)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Created 0600 rather than chmod-ed after: no moment when others can read it.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process starting beside us won the race
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        return key
