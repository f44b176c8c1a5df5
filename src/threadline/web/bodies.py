"""Request bodies that are not JSON are the client's fault: 400, never 500.

Litestar decodes a JSON body with msgspec, which raises ``UnicodeDecodeError``
on bytes that are not UTF-8, ``RecursionError`` on deep nesting and
``SerializationException`` on bad syntax; none is an HTTP error, so each would
be answered 500. The same
``SerializationException`` also means a response we could not encode, which is
our fault, so the translation happens here, where only decoding can fail.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, SerializationException

__all__ = ["JSONCheckedRequest"]


class JSONCheckedRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            raise ClientException(f"the request body is not valid UTF-8: {exc.reason}") from exc
        except RecursionError as exc:
            raise ClientException("the request body is not valid JSON: nested too deeply") from exc
        except SerializationException as exc:
            raise ClientException(f"the request body is not valid JSON: {exc}") from exc
