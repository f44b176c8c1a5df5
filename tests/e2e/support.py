"""What the browser tests do besides clicking: sign in, and play the outside world
through its real doors (SMTP, Twilio's signed webhook, the sandbox's outbox)."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from typing import Any

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from twilio.request_validator import RequestValidator

from threadline.storage.db import sync_url

from .conftest import Live
from .seed import ACCOUNT_SID, AUTH_TOKEN, PASSWORD, SMS_NUMBER, SUPPORT, Person

__all__ = ["outbox", "send_email", "send_sms", "sign_in"]


def sign_in(page: Page, live: Live, who: Person, path: str = "/inbox") -> None:
    page.goto(f"{live.url}/login?next={path}")
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("body[data-user-id]")).to_be_attached()


def send_email(live: Live, sender: str, subject: str, text: str, name: str = "Ana Souza") -> str:
    """Over SMTP to the server's own MX, as any mail server would deliver it."""
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    msg.set_content(text)
    with smtplib.SMTP("127.0.0.1", live.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)
    return str(msg["Message-ID"])


def send_sms(live: Live, sender: str, text: str) -> httpx.Response:
    """A Twilio SMS webhook, signed with Twilio's own RequestValidator."""
    url = f"{live.url}/webhooks/twilio/sms"
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": SMS_NUMBER,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    response = httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
    response.raise_for_status()
    return response


def outbox(live: Live, recipient: str) -> list[dict[str, Any]]:
    """What the sandbox providers received for one recipient, oldest first."""
    engine = sa.create_engine(sync_url(live.database_url))
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT provider, recipient, text FROM sandbox_outbox WHERE recipient = ? "
                "ORDER BY id",
                (recipient,),
            ).all()
    finally:
        engine.dispose()
    return [dict(r._mapping) for r in rows]
