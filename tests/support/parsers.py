"""Parsers for tests of the process that parses large payloads: they must be
importable by name, because that process is spawned and unpickles them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from threadline.core.model import Ignored, ParseResult
from threadline.ports import Inbox


class PidParser:
    offload = True

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> ParseResult:
        return Ignored(f"pid {os.getpid()} nice {os.nice(0)} read {len(body)} bytes")


class DyingParser:
    offload = True

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> ParseResult:
        os._exit(3)  # as the kernel's OOM killer would end it
