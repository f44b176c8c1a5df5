"""configure_logging changes process-wide state; tests that call it restore it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

__all__ = ["restore_logging"]

TOUCHED = ("", "threadline", "mail.log", "aiosmtpd", "httpx", "httpcore", "uvicorn.access")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put back the levels, handlers and structlog config a test's configure_logging changed."""
    saved = {
        name: (lg.level, lg.handlers[:]) for name in TOUCHED for lg in [logging.getLogger(name)]
    }
    structlog_config = structlog.get_config()
    yield
    for name, (level, handlers) in saved.items():
        lg = logging.getLogger(name)
        lg.setLevel(level)
        lg.handlers[:] = handlers
    structlog.reset_defaults()
    structlog.configure(**structlog_config)
