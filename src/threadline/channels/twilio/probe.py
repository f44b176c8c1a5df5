"""Are an inbox's Twilio credentials good? Fetch the account they name.

``GET {base}/2010-04-01/Accounts/{AccountSid}.json`` with Basic auth is the
cheapest call that proves the SID and auth token together; it sends nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from threadline.channels.probes import CheckContext, CheckResult
from threadline.channels.twilio.send import SmsSender
from threadline.ports import Inbox

__all__ = ["check_account"]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def check_account(inbox: Inbox, context: CheckContext) -> CheckResult:
    sid = str(inbox.config.get("account_sid") or "")
    token = str(inbox.config.get("auth_token") or "")
    if not sid or not token:
        return CheckResult(False, "The inbox has no Twilio Account SID and auth token.")
    base = SmsSender(context.senders)._base(inbox.config)  # where its replies go
    url = f"{base}/2010-04-01/Accounts/{quote(sid, safe='')}.json"
    try:
        response = await context.http.get(url, auth=(sid, token), timeout=context.timeout)
    except httpx.HTTPError as exc:
        return CheckResult(False, f"Could not reach Twilio: {exc or type(exc).__name__}.")
    body = _json(response)
    said = str(body.get("message") or "").strip()
    if response.status_code == 200:
        name = str(body.get("friendly_name") or sid)
        status = str(body.get("status") or "active")
        if status != "active":
            return CheckResult(
                False, f"Twilio knows the account “{name}”, but it is {status}: it cannot send."
            )
        return CheckResult(True, f"Twilio accepted the credentials for the account “{name}”.")
    if response.status_code == 401:
        return CheckResult(
            False, f"Twilio refused the Account SID and auth token ({said or 'Authenticate'})."
        )
    if response.status_code == 404:
        return CheckResult(False, "Twilio has no account with this SID for these credentials.")
    return CheckResult(False, f"Twilio answered {response.status_code}: {said or 'no reason'}.")
