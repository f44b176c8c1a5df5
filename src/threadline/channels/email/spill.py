"""Large base64 attachments kept out of the stdlib's parser.

The feed parser holds a part's body as one str per line until the part ends and
then joins them: for a 27 MB attachment (36 MB of base64) that is ~60 MB of line
objects and another 36 MB joined, all for text that is decoded once and dropped.
So a long base64 run that opens the body of a part declared base64 is cut out of
the bytes the parser sees and replaced by a token line; the part then decodes its
bytes straight from the raw mail (binascii skips the line breaks).

The tree is otherwise the one the stdlib would build. Wherever a token lands
anywhere but as the whole payload of a file part (a text part that happened to
look like base64, an attached mail, a preamble), the original text is put back.
The token carries a random nonce per mail, so a sender cannot write one.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage, Message

__all__ = ["SPILL_BYTES", "Part", "Spills", "spilled_bytes"]

# Below this a run costs the parser little; above it, the saving is what matters.
SPILL_BYTES = 256 * 1024
# A blank line (the end of a part's headers), then base64 lines (RFC 5322 caps a
# line at 998 characters). The minimum makes short runs fail early and cheaply:
# each attempt starts at a blank line and a blank line ends any run, so no byte is
# scanned by more than one attempt.
_RUN = re.compile(rb"\n\r?\n((?:[A-Za-z0-9+/=]{1,998}+\r?\n){64,}+)")
_BASE64_CTE = re.compile(rb"(?im)^content-transfer-encoding:[ \t]*base64[ \t]*\r?$")
_HEADER_WINDOW = 32 * 1024  # how far back a run's part headers are looked for
# Fed in slices, the parser never sees the whole-message str (and the StringIO
# copy, four bytes a character) that message_from_bytes builds.
_FEED_CHUNK = 1024 * 1024
_FILE_TYPES_EXCLUDED = ("text", "message", "multipart")


class Part(EmailMessage):
    """A message part; ``spilled`` is its base64 body in the raw mail, when the
    parser never saw it (its payload is then empty)."""

    spilled: memoryview | None = None


@dataclass(frozen=True, slots=True)
class _Run:
    region: memoryview  # the base64 lines, with the last one's line break
    newline: bytes  # that line break, which stays in the text the parser sees


class Spills:
    """The raw mail with its long base64 bodies cut out, and how to put them back."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._prefix = f"threadline-spill-{secrets.token_hex(8)}-"
        self.runs: dict[str, _Run] = {}
        self._cuts: list[tuple[int, int, bytes]] = []  # start, end, replacement
        if len(raw) >= SPILL_BYTES:
            self._find()

    def _find(self) -> None:
        view = memoryview(self.raw)
        for m in _RUN.finditer(self.raw):
            start, end = m.span(1)
            if end - start < SPILL_BYTES or not self._declared_base64(m.start()):
                continue
            newline = b"\r\n" if self.raw[end - 2 : end] == b"\r\n" else b"\n"
            token = f"{self._prefix}{len(self.runs)}"
            self.runs[token] = _Run(view[start:end], newline)
            self._cuts.append((start, end, token.encode() + newline))

    def _declared_base64(self, blank: int) -> bool:
        """Whether the header block ending at ``blank`` says Content-Transfer-Encoding:
        base64 (only a hint: a wrong guess is put back after the parse)."""
        lo = max(0, blank - _HEADER_WINDOW)
        top = max(self.raw.rfind(b"\n\n", lo, blank), self.raw.rfind(b"\n\r\n", lo, blank))
        return _BASE64_CTE.search(self.raw, max(lo, top + 1), blank + 1) is not None

    def chunks(self) -> Iterator[bytes]:
        """What the parser is fed: the mail with each run replaced by its token line."""
        view, at = memoryview(self.raw), 0
        for start, end, replacement in self._cuts:
            yield from _sliced(view[at:start])
            yield replacement
            at = end
        yield from _sliced(view[at:])

    def settle(self, msg: Message) -> None:
        """After the parse: file parts whose whole body was cut out keep it in the raw
        mail (``Part.spilled``); every other token gets its text back."""
        if not self.runs:
            return
        stack: list[tuple[Message, bool]] = [(msg, False)]  # part, inside an attached mail
        while stack:
            part, in_message = stack.pop()
            for attr in ("preamble", "epilogue"):
                text = getattr(part, attr, None)
                if isinstance(text, str) and self._prefix in text:
                    setattr(part, attr, self._restore(text))
            payload = part.get_payload() if part.is_multipart() else _raw_payload(part)
            if isinstance(payload, list):
                nested = in_message or part.get_content_maintype() == "message"
                stack.extend((p, nested) for p in payload if isinstance(p, Message))
            elif isinstance(payload, str) and self._prefix in payload:
                run = self.runs.get(payload.strip())
                if run is not None and not in_message and _file_part(part):
                    assert isinstance(part, Part)
                    part.spilled = run.region
                    part.set_payload("")
                else:
                    part.set_payload(self._restore(payload))

    def _restore(self, text: str) -> str:
        for token, run in self.runs.items():
            if token in text:
                body = bytes(run.region[: len(run.region) - len(run.newline)]).decode("ascii")
                text = text.replace(token, body)
        return text


def spilled_bytes(part: Message) -> bytes | None:
    """The decoded bytes of a part whose body the parser never saw, else None."""
    spilled = getattr(part, "spilled", None)
    if spilled is None:
        return None
    try:
        return binascii.a2b_base64(spilled)
    except binascii.Error:
        # Broken padding and the like: the stdlib's lenient decoder decides, on the
        # text it would have had (this one part pays what the spill saved).
        part.set_payload(bytes(spilled).decode("ascii"))
        part.spilled = None  # type: ignore[attr-defined]
        payload = part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""


def _file_part(part: Message) -> bool:
    return (
        isinstance(part, Part)
        and part.get_content_maintype() not in _FILE_TYPES_EXCLUDED
        and str(part.get("content-transfer-encoding", "")).strip().lower() == "base64"
    )


def _raw_payload(part: Message) -> object:
    # get_payload() would re-decode a payload holding surrogates; the parser's own
    # text is what a token was written into.
    return part.__dict__.get("_payload")


def _sliced(view: memoryview) -> Iterator[bytes]:
    for start in range(0, len(view), _FEED_CHUNK):
        yield bytes(view[start : start + _FEED_CHUNK])
