"""GET /media/{token}: the files of outbound messages, for providers that fetch them.

Twilio (MMS ``MediaUrl``), Meta (``link``) and API webhook receivers download a
reply's files from here. The token is the attachment id and an expiry, signed
with the instance secret (core.tokens.sign_until); it is the only credential,
so the route sits outside sessions and answers 404 to anything else: a bad, a
tampered or an expired token, or a file that is not an outbound reply's.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from threadline.core.filetypes import GENERIC, LINKABLE
from threadline.core.tokens import verify_until
from threadline.queries.attachments import attachment_data, linked_attachment

__all__ = ["ROUTES"]

MAX_TOKEN = 100


@get("/media/{token:str}", include_in_schema=False)
async def media(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    c = request.app.state.container
    now = int(c.clock.now().timestamp())
    attachment_id = None
    if len(token) <= MAX_TOKEN:
        attachment_id = verify_until("media", token, now, c.bus.cfg.secret_key)
    if attachment_id is None:
        raise NotFoundException("no such file")
    row = await c.db.read(lambda conn: linked_attachment(conn, attachment_id))
    data = None if row is None else attachment_data(row, c.bus.cfg.attachment_dir)
    if data is None:
        raise NotFoundException("no such file")
    ascii_name = "".join(
        ch for ch in row.filename if ch.isascii() and (ch.isalnum() or ch in "._- ")
    )
    return Response(
        data,
        # The stored type was sniffed from the bytes; anything outside the few
        # types providers fetch is served as opaque bytes.
        media_type=row.content_type if row.content_type in LINKABLE else GENERIC,
        headers={
            # A download, never a page of ours, whatever a browser makes of the bytes.
            "Content-Disposition": f'attachment; filename="{ascii_name[:120] or "file"}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


ROUTES = [media]
