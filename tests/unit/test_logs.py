"""configure_logging: our events at the configured level, library chatter at WARNING."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import structlog
from tests.support.logs import restore_logging  # noqa: F401 (a fixture)

from threadline.logs import configure_logging
from threadline.web.app import create_app

pytestmark = pytest.mark.usefixtures("restore_logging")


def test_libraries_stay_quiet_and_ours_speak_at_the_configured_level() -> None:
    configure_logging("info")
    assert not logging.getLogger("mail.log").isEnabledFor(logging.INFO)
    assert logging.getLogger("mail.log").isEnabledFor(logging.WARNING)
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    ours = logging.getLogger("threadline.channels.email.smtp")
    assert ours.isEnabledFor(logging.INFO)
    assert not ours.isEnabledFor(logging.DEBUG)

    configure_logging("DEBUG")
    assert ours.isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("mail.log").isEnabledFor(logging.INFO)


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="verbose"):
        configure_logging("verbose")


def test_one_line_per_event_on_stderr_with_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info")
    configure_logging("info")  # twice, as a restart in one process would
    log = structlog.get_logger("threadline.test")
    log.debug("hidden")
    log.info("smtp.stored", inbox=3)
    logging.getLogger("mail.log").info("Peer: ('127.0.0.1', 5000)")
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        log.exception("smtp.store_failed")
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert "level=info logger=threadline.test event=smtp.stored inbox=3" in lines[0]
    assert "event=smtp.store_failed" in lines[1]
    assert "RuntimeError: boom\\nsecond line" in lines[1]


@pytest.mark.anyio
async def test_the_web_app_leaves_the_root_logger_alone(container: Any) -> None:
    configure_logging("info")
    root = logging.getLogger()
    handlers = root.handlers[:]
    create_app(container, manage_lifecycle=False)
    assert root.level == logging.WARNING
    assert root.handlers == handlers
