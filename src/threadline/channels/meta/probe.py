"""Is an inbox's Meta access token good? Ask Graph whom it belongs to.

``GET {base}/{version}/me`` with the token, at the base and version the
channel's sender uses: a page token names the Page, a system-user token its
user. It proves the token; only a webhook Meta signs proves the app secret.
"""

from __future__ import annotations

from typing import Any

import httpx

from threadline.channels.meta.parse import graph_error_text
from threadline.channels.meta.send import InstagramSender, MessengerSender, WhatsAppSender
from threadline.channels.probes import CheckContext, CheckResult
from threadline.ports import Inbox

__all__ = ["check_token"]

_SENDERS = {
    "whatsapp": WhatsAppSender,
    "messenger": MessengerSender,
    "instagram": InstagramSender,
}


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def check_token(inbox: Inbox, context: CheckContext) -> CheckResult:
    sender = _SENDERS[inbox.channel](context.senders)
    token = str(inbox.config.get("access_token") or "")
    if not token:
        return CheckResult(False, f"The inbox has no {sender.product} access token.")
    url = f"{sender.base(inbox)}/{sender.version}/me"
    try:
        response = await context.http.get(
            url,
            params={"fields": "id,name"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=context.timeout,
        )
    except httpx.HTTPError as exc:
        return CheckResult(False, f"Could not reach {sender.product}: {exc or type(exc).__name__}.")
    body = _json(response)
    if response.is_success and body.get("id"):
        who = str(body.get("name") or body["id"])
        return CheckResult(True, f"Meta accepted the access token: it belongs to “{who}”.")
    error = body.get("error")
    reason = (
        graph_error_text(error, sender.product)
        if isinstance(error, dict)
        else f"HTTP {response.status_code}"
    )
    return CheckResult(False, f"Meta refused the access token: {reason}.")
