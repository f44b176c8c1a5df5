"""Logging for the long-running processes: one line per event, on stderr.

Our code logs through structlog and libraries through stdlib logging; both end
in the same handler so levels are set in one place (stdlib logger levels, by
name) and every line has the same shape. Tests and library use never call this:
importing threadline must not touch the host's logging.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import Processor

from threadline.storage.secrets import redact_log_event

__all__ = ["configure_logging"]

# One INFO line per SMTP command from aiosmtpd, one per request from httpx and
# uvicorn: under load they drown what we log ourselves.
_NOISY = ("mail.log", "aiosmtpd", "httpx", "httpcore", "uvicorn.access")
_HANDLER_NAME = "threadline"


def configure_logging(level: str) -> None:
    """Our loggers at ``level`` ("debug", "info", ...), everyone else at WARNING.

    Safe to call again: it replaces its own handler instead of adding a second.
    """
    ours = _level(level)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_log_event,  # inbox secrets never reach a log line
    ]
    structlog.configure(
        processors=[
            # Drop disabled events before any processor spends time on them.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                # logfmt escapes newlines, so a traceback stays one line: one
                # event is one line for grep and for log shippers alike.
                structlog.processors.LogfmtRenderer(
                    key_order=["timestamp", "level", "logger", "event"], drop_missing=True
                ),
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("threadline").setLevel(ours)
    for name in _NOISY:
        # Explicit, not inherited from the root: whoever lowers the root level
        # later (a framework's default config) must not bring them back.
        logging.getLogger(name).setLevel(logging.WARNING)


def _level(name: str) -> int:
    level = logging.getLevelNamesMapping().get(name.strip().upper())
    if level is None:
        raise ValueError(f"unknown log level {name!r}; use debug, info, warning or error")
    return level
