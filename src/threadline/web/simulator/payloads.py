"""What each provider would send us when a customer writes or calls, signed as it would sign it.

The customer simulator posts these to our own webhooks, so a simulated SMS takes
exactly the path a real one does: signature check, receipt, parser, timeline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlencode

import orjson

from threadline.channels.twilio.signature import compute_signature
from threadline.ports import Inbox

__all__ = ["Request", "call", "email", "meta_message", "sms", "telegram"]


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request a provider would make."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _twilio(inbox: Inbox, base: str, path: str, params: dict[str, str]) -> Request:
    signature = compute_signature(
        str(inbox.config.get("auth_token") or ""), base + path, params.items()
    )
    return Request(
        path,
        urlencode(params).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )


def sms(inbox: Inbox, base: str, *, phone: str, text: str) -> Request:
    sid = _sid("SM")
    return _twilio(
        inbox,
        base,
        "/webhooks/twilio/sms",
        {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": str(inbox.config.get("account_sid") or "AC" + "0" * 32),
            "From": phone,
            "To": inbox.address,
            "Body": text,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        },
    )


def call(
    inbox: Inbox, base: str, *, phone: str, outcome: str, transcript: str = ""
) -> list[Request]:
    """A call that rings and then is answered, missed, or left as a voicemail."""
    call_sid = _sid("CA")
    common = {
        "CallSid": call_sid,
        "AccountSid": str(inbox.config.get("account_sid") or "AC" + "0" * 32),
        "From": phone,
        "To": inbox.address,
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    path = "/webhooks/twilio/voice"
    steps = [_twilio(inbox, base, path, {**common, "CallStatus": "ringing"})]
    if outcome == "answered":
        steps.append(
            _twilio(
                inbox,
                base,
                path + "/dial-done",
                {
                    **common,
                    "CallStatus": "in-progress",
                    "DialCallStatus": "completed",
                    "DialCallSid": _sid("CA"),
                    "DialCallDuration": "95",
                },
            )
        )
        steps.append(
            _twilio(
                inbox,
                base,
                path + "/status",
                {**common, "CallStatus": "completed", "CallDuration": "102"},
            )
        )
    elif outcome == "voicemail":
        recording = _sid("RE")
        url = f"https://api.twilio.com/2010-04-01/Accounts/{common['AccountSid']}/Recordings/{recording}"
        steps.append(
            _twilio(
                inbox,
                base,
                path + "/voicemail",
                {
                    **common,
                    "CallStatus": "in-progress",
                    "RecordingSid": recording,
                    "RecordingUrl": url,
                    "RecordingDuration": "21",
                },
            )
        )
        steps.append(
            _twilio(
                inbox,
                base,
                path + "/status",
                {**common, "CallStatus": "completed", "CallDuration": "40"},
            )
        )
        if transcript:
            steps.append(
                _twilio(
                    inbox,
                    base,
                    path + "/transcription",
                    {
                        **common,
                        "TranscriptionSid": _sid("TR"),
                        "TranscriptionText": transcript,
                        "TranscriptionStatus": "completed",
                        "RecordingSid": recording,
                        "RecordingUrl": url,
                    },
                )
            )
    else:
        steps.append(
            _twilio(
                inbox,
                base,
                path + "/status",
                {**common, "CallStatus": "no-answer", "CallDuration": "0"},
            )
        )
    return steps


def _meta(inbox: Inbox, payload: dict[str, object]) -> Request:
    body = orjson.dumps(payload)
    secret = str(inbox.config.get("app_secret") or "").encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return Request(
        "/webhooks/meta",
        body,
        {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
    )


def meta_message(inbox: Inbox, *, user_id: str, name: str, text: str) -> Request:
    now = int(time.time())
    if inbox.channel == "whatsapp":
        return _meta(
            inbox,
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "WABA",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {
                                        "display_phone_number": inbox.address,
                                        "phone_number_id": inbox.address,
                                    },
                                    "contacts": [{"profile": {"name": name}, "wa_id": user_id}],
                                    "messages": [
                                        {
                                            "from": user_id,
                                            "id": "wamid." + secrets.token_urlsafe(24),
                                            "timestamp": str(now),
                                            "type": "text",
                                            "text": {"body": text},
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                ],
            },
        )
    return _meta(
        inbox,
        {
            "object": "instagram" if inbox.channel == "instagram" else "page",
            "entry": [
                {
                    "id": inbox.address,
                    "time": now * 1000,
                    "messaging": [
                        {
                            "sender": {"id": user_id},
                            "recipient": {"id": inbox.address},
                            "timestamp": now * 1000,
                            "message": {"mid": "m_" + secrets.token_urlsafe(24), "text": text},
                        }
                    ],
                }
            ],
        },
    )


def telegram(inbox: Inbox, *, user_id: int, first_name: str, text: str) -> Request:
    now = int(time.time())
    update = {
        "update_id": secrets.randbelow(2**31),
        "message": {
            "message_id": secrets.randbelow(2**31),
            "date": now,
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "text": text,
        },
    }
    return Request(
        f"/webhooks/telegram/{inbox.id}",
        orjson.dumps(update),
        {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": str(inbox.config.get("secret_token") or ""),
        },
    )


def email(inbox: Inbox, *, sender: str, name: str, subject: str, text: str) -> Request:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = inbox.address
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "simulator.test")
    msg.set_content(text)
    raw = msg.as_bytes()
    secret = str(inbox.config.get("webhook_secret") or "").encode()
    signature = hmac.new(secret, raw, hashlib.sha256).hexdigest()
    return Request(
        f"/webhooks/email/{inbox.id}",
        raw,
        {"Content-Type": "message/rfc822", "X-Threadline-Signature": f"sha256={signature}"},
    )
