"""``GET /widget.js`` (the script a business's page loads) and the chat's files.

The script is the front-end's built artifact in the package's static dir; until
it is there, 404. Its URL is fixed (it is pasted into other people's pages), so
it is cached for a day and revalidated with its ETag.

A file in a chat is served at ``/widget/files/{token}``: the attachment id and
an expiry signed with the instance secret are the only credential, exactly like
/media/ links, and any other token is 404.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from threadline.queries.attachments import attachment_data
from threadline.queries.chat import chat_attachment
from threadline.web.media import download_name, signed_attachment_id
from threadline.web.ui.render import STATIC
from threadline.web.widget.frames import FILE_PURPOSE

__all__ = ["ROUTES", "WIDGET_JS"]

WIDGET_JS = STATIC / "widget.js"
_SHOWN_INLINE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


@dataclass(frozen=True, slots=True)
class _Script:
    mtime_ns: int
    body: bytes
    etag: str


_script: _Script | None = None


def _load() -> _Script:
    global _script
    try:
        mtime = WIDGET_JS.stat().st_mtime_ns
    except FileNotFoundError:
        raise NotFoundException("the widget script is not built") from None
    if _script is None or _script.mtime_ns != mtime:
        body = WIDGET_JS.read_bytes()
        _script = _Script(mtime, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return _script


@get("/widget.js", include_in_schema=False)
async def widget_js(request: Request[Any, Any, Any]) -> Response[bytes]:
    script = _load()
    headers = {
        "ETag": script.etag,
        "Cache-Control": "public, max-age=86400",
        "X-Content-Type-Options": "nosniff",
        # Pages on other sites load it: it must not be blocked where they isolate.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    asked = request.headers.get("if-none-match", "")
    if script.etag in (t.strip() for t in asked.split(",")):
        return Response(b"", status_code=304, headers=headers)
    return Response(script.body, media_type="text/javascript; charset=utf-8", headers=headers)


@get("/widget/files/{token:str}", include_in_schema=False)
async def widget_file(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    c = request.app.state.container
    attachment_id = signed_attachment_id(c, FILE_PURPOSE, token)
    row = await c.db.read(lambda conn: chat_attachment(conn, attachment_id))
    data = None if row is None else attachment_data(row, c.bus.cfg.attachment_dir)
    if data is None:
        raise NotFoundException("no such file")
    inline = row.content_type in _SHOWN_INLINE
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        # Sniffed from the bytes when stored; only images show in the page, as images.
        media_type=row.content_type if inline else "application/octet-stream",
        headers={
            "Content-Disposition": f'{disposition}; filename="{download_name(row.filename)}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Cache-Control": "private, max-age=3600",
        },
    )


ROUTES = [widget_js, widget_file]
