"""The sandbox's answer to ``GET /2010-04-01/Accounts/{AccountSid}.json``: the
account, for the credentials of a sandbox SMS or voice inbox, as Twilio
answers it; the settings page's "test credentials" asks this."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from threadline.channels.sandbox_auth import sandbox_inbox
from threadline.channels.twilio.sandbox import API_VERSION, _basic_auth, _error, _holds

__all__ = ["ROUTES"]


@get(f"/sandbox/twilio/{API_VERSION}/Accounts/{{resource:str}}", include_in_schema=False)
async def fetch_account(
    request: Request[Any, Any, Any], resource: FromPath[str]
) -> Response[dict[str, Any]]:
    credentials = _basic_auth(request.headers.get("authorization", ""))
    if credentials is None:
        return _error(401, 20003, "Authentication Error - No credentials provided")
    account_sid = resource.removesuffix(".json")
    user, password = credentials
    inbox = await sandbox_inbox(
        request, ("sms", "voice"), lambda i: _holds(i, account_sid, user, password)
    )
    if inbox is None:
        return _error(401, 20003, "Authenticate")
    return Response(
        {
            "sid": account_sid,
            "friendly_name": f"{inbox.name} (sandbox)",
            "status": "active",
            "type": "Full",
            "uri": f"/{API_VERSION}/Accounts/{account_sid}.json",
        },
        status_code=200,
    )


ROUTES = [fetch_account]
