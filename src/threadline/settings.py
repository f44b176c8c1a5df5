"""Settings from flags and THREADLINE_* environment variables."""

from __future__ import annotations

import secrets
from pathlib import Path

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
    attachments_in_db: bool = True
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

    def base_url(self) -> str:
        """Our own address as providers and links see it."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def resolved_secret(self) -> str:
        """The configured secret, or one kept in the data dir so tokens survive restarts."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "threadline.secret"
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key
