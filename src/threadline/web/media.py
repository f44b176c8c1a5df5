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

__all__ = ["ROUTES", "download_name", "signed_attachment_id"]

MAX_TOKEN = 100


def signed_attachment_id(c: Any, purpose: str, token: str) -> int:
    """The attachment id a link token of ours names, unexpired; NotFound (404) for
    anything else, so a bad, a tampered and an expired link look alike."""
    now = int(c.clock.now().timestamp())
    found = None
    if len(token) <= MAX_TOKEN:
        found = verify_until(purpose, token, now, c.bus.cfg.secret_key)
    if found is None:
        raise NotFoundException("no such file")
    return found


def download_name(filename: str) -> str:
    """A stored file name as a Content-Disposition filename: plain ASCII, bounded."""
    plain = "".join(ch for ch in filename if ch.isascii() and (ch.isalnum() or ch in "._- "))
    return plain[:120] or "file"


@get("/media/{token:str}", include_in_schema=False)
async def media(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    c = request.app.state.container
    attachment_id = signed_attachment_id(c, "media", token)
    row = await c.db.read(lambda conn: linked_attachment(conn, attachment_id))
    data = None if row is None else attachment_data(row, c.bus.cfg.attachment_dir)
    if data is None:
        raise NotFoundException("no such file")
    return Response(
        data,
        # The stored type was sniffed from the bytes; anything outside the few
        # types providers fetch is served as opaque bytes.
        media_type=row.content_type if row.content_type in LINKABLE else GENERIC,
        headers={
            # A download, never a page of ours, whatever a browser makes of the bytes.
            "Content-Disposition": f'attachment; filename="{download_name(row.filename)}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


ROUTES = [media]
