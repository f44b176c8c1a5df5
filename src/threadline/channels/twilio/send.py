"""SMS replies through Twilio's Messages API.

POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, with
HTTP Basic auth AccountSid:AuthToken. The inbox config holds ``account_sid``
and ``auth_token``, and optionally ``messaging_service_sid`` (Twilio then picks
the sender number), ``api_base``, or ``sandbox`` to send to our own fake.

Files go as MMS: one ``MediaUrl`` per file, our signed /media/ link, which
Twilio fetches when it sends (jobs/delivery.py signs them).
"""

from __future__ import annotations

from typing import Any

import httpx

from threadline.channels.registry import SenderContext
from threadline.channels.twilio.sms import error_reason
from threadline.core.model import DeliveryError, OutboundMessage
from threadline.ports import Inbox

__all__ = ["TWILIO_API", "SmsSender"]

TWILIO_API = "https://api.twilio.com"


class SmsSender:
    def __init__(self, context: SenderContext) -> None:
        self.http = context.http
        self.sandbox_base = context.sandbox_base.rstrip("/")
        # The sandbox lives under our public base URL, so that base is where
        # Twilio (or the sandbox) can reach our status webhook.
        self.public_base = self.sandbox_base.removesuffix("/sandbox")

    def _base(self, config: Any) -> str:
        if config.get("sandbox"):
            return f"{self.sandbox_base}/twilio"
        return str(config.get("api_base") or TWILIO_API).rstrip("/")

    async def send(self, inbox: Inbox, message: OutboundMessage) -> str | None:
        config = inbox.config
        account_sid = str(config.get("account_sid") or "")
        auth_token = str(config.get("auth_token") or "")
        if not account_sid or not auth_token:
            raise DeliveryError(
                f"SMS inbox {inbox.name!r} has no Twilio account_sid and auth_token",
                permanent=True,
            )
        if not message.recipient:
            raise DeliveryError("the customer has no phone number to text", permanent=True)
        form: dict[str, str | list[str]] = {
            "To": message.recipient,
            "Body": message.text,
            "StatusCallback": f"{self.public_base}/webhooks/twilio/status",
        }
        if message.attachments:
            form["MediaUrl"] = [f.url for f in message.attachments]
        if config.get("messaging_service_sid"):
            form["MessagingServiceSid"] = str(config["messaging_service_sid"])
        else:
            form["From"] = inbox.address
        url = f"{self._base(config)}/2010-04-01/Accounts/{account_sid}/Messages.json"
        try:
            response = await self.http.post(url, data=form, auth=(account_sid, auth_token))
        except httpx.HTTPError as exc:
            raise DeliveryError(f"could not reach Twilio: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryError(f"Twilio answered {response.status_code}; will retry")
        if response.status_code >= 400:
            raise DeliveryError(_refusal(response), permanent=True)
        try:
            sid = response.json().get("sid")
        except ValueError:
            sid = None
        # Accepted without a sid we can read: the text is on its way, but no
        # status callback will find it; never send it twice to learn the id.
        return str(sid) if sid else None


def _refusal(response: httpx.Response) -> str:
    """Twilio's own words ({"code", "message"}), with our plain reason for known codes."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"Twilio refused the message ({response.status_code})"
    code = str(body.get("code") or "") or None
    message = str(body.get("message") or "").strip()
    if response.status_code == 401:
        return f"Twilio rejected the inbox's credentials: {message or 'authentication failed'}"
    reason = error_reason(code, message)
    if message and message not in reason:
        reason = f"{reason}: {message}"
    return f"Twilio refused the message: {reason}"
