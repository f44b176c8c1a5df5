"""The email webhook's body: checked as it arrives, never held whole before it is trusted.

A forwarding service posts the raw message with ``X-Threadline-Signature:
sha256=<hex HMAC-SHA256 of the body>``, keyed with the inbox's webhook secret.
A mail can be 36 MiB, so the HMAC is fed chunk by chunk and the bytes are
spooled (memory up to SPOOL_MEMORY_BYTES, a temporary file beyond): an
unsigned or oversized post costs disk for a moment, not the server's memory.
"""

from __future__ import annotations

import hashlib
import hmac
import tempfile
from pathlib import Path
from types import TracebackType

from threadline.storage.files import put_stream

__all__ = ["SPOOL_MEMORY_BYTES", "EmailTooLarge", "SignedEmailBody", "sign"]

# Most mail is far smaller; past this the spool moves to disk.
SPOOL_MEMORY_BYTES = 1024 * 1024


class EmailTooLarge(ValueError):
    """The body exceeds the inbound email size cap (answer 413)."""


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts on ``body`` (for senders and tests)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SignedEmailBody:
    """Collects one webhook body: size-capped, HMAC'd and spooled as it arrives."""

    def __init__(self, secret: str, max_bytes: int) -> None:
        self._secret = secret
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
        self.max_bytes = max_bytes
        self.size = 0

    def announce(self, content_length: int | None) -> None:
        """Refuse at once a body whose announced length is over the cap."""
        if content_length is not None and content_length > self.max_bytes:
            raise EmailTooLarge(self._too_large(content_length))

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise EmailTooLarge(self._too_large(self.size))
        self._mac.update(chunk)
        self._spool.write(chunk)

    def is_signed(self, header: str) -> bool:
        """Whether ``header`` (``sha256=<hex>``) signs every byte written so far."""
        given = header.strip().removeprefix("sha256=")
        return bool(self._secret) and hmac.compare_digest(given, self._mac.hexdigest())

    @property
    def spooled_to_disk(self) -> bool:
        """Whether the body outgrew memory and now lives in a temporary file."""
        return bool(getattr(self._spool, "_rolled", False))

    def read(self) -> bytes:
        """The whole body, in one allocation (call once the signature holds)."""
        self._spool.seek(0)
        return self._spool.read()

    def keep(self, root: Path) -> str:
        """Copy the body into the file store (storage/files.py) and return its SHA-256,
        without reading it whole into memory (call once the signature holds)."""
        self._spool.seek(0)
        return put_stream(root, self._spool)

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> SignedEmailBody:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _too_large(self, size: int) -> str:
        return f"the email is {size} bytes; this server accepts at most {self.max_bytes}"
