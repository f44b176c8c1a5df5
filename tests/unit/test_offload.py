"""Large payloads are parsed in a process of their own, at a low priority."""

from __future__ import annotations

import os

import pytest
from tests.support.parsers import DyingParser, PidParser

from threadline.core.model import Ignored, PayloadError
from threadline.offload import ProcessParser
from threadline.ports import Inbox

INBOX = Inbox(1, "email", "Support", "support@acme.test", {})


@pytest.mark.anyio
async def test_a_large_payload_is_parsed_in_another_process_below_our_priority() -> None:
    heavy = ProcessParser()
    try:
        result = await heavy.parse(PidParser(), INBOX, b"x" * 2_000_000, {})
    finally:
        heavy.close()
    assert isinstance(result, Ignored)
    _, pid, _, nice, _, size, _ = result.reason.split()
    assert int(pid) != os.getpid()
    assert int(nice) > os.nice(0)
    assert int(size) == 2_000_000


@pytest.mark.anyio
async def test_a_parse_that_kills_its_process_is_a_payload_error_and_the_next_parse_works() -> None:
    heavy = ProcessParser()
    try:
        with pytest.raises(PayloadError, match="process died"):
            await heavy.parse(DyingParser(), INBOX, b"boom", {})
        after = await heavy.parse(PidParser(), INBOX, b"fine", {})
    finally:
        heavy.close()
    assert isinstance(after, Ignored)
