"""One process: the web app, the SMTP server and the job runner on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Coroutine
from typing import Any

import structlog
import uvicorn

from threadline.bootstrap import Container
from threadline.channels.email.smtp import start_smtp_server
from threadline.logs import configure_logging
from threadline.web.app import create_app
from threadline.web.ui.render import warm_templates

__all__ = ["run_server", "serve"]

log = structlog.get_logger(__name__)


def run_server(main: Coroutine[Any, Any, None]) -> None:
    """Run the server's loop on uvloop where it is installed (uvicorn[standard]
    brings it; it has no Windows build), else on asyncio's own.

    uvicorn picks uvloop only for a loop it starts itself; `threadline serve`
    starts its own, to share it with the SMTP server and the job runner, so the
    choice is made here. The event loop's own work was most of the web thread's
    time under the widget's 500 sockets (bench/widget.py).
    """
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


# glibc's mallopt parameters (malloc.h).
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def give_back_large_frees() -> bool:
    """Keep glibc from holding on to the memory of large frees.

    After a large block is freed, glibc raises its mmap threshold, so the next
    maximum-size email is parsed in heap memory that is never returned: RSS rose
    116 -> 343 -> 410 -> 493 MB over four 36 MiB mails. A fixed threshold (blocks
    of 128 KiB and more are mmap-ed and unmapped on free) and two arenas kept it
    near 270 MB after each one. Does nothing off glibc.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 128 * 1024)) and bool(mallopt(_M_ARENA_MAX, 2))


async def serve(container: Container, *, on_ready: str | None = None) -> None:
    settings = container.settings
    configure_logging(settings.log_level)
    give_back_large_frees()
    await container.start(jobs=settings.run_jobs)
    app = create_app(container, manage_lifecycle=False)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            # X-Forwarded-* only from proxies we were told to trust: otherwise any
            # client could pick its own address (and dodge the sign-in throttle).
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=settings.trusted_proxies or None,
            lifespan="on",
            # The chat widget's socket (web/widget/socket.py) answers a frame over its
            # 16 KiB with an error frame; past this, uvicorn closes the socket (1009)
            # rather than hold a huge frame in memory.
            ws="websockets-sansio",
            ws_max_size=256 * 1024,
            # Chat frames are a few hundred bytes of JSON: compressing each one cost
            # more CPU than the bytes it saved (bench/widget.py).
            ws_per_message_deflate=False,
        )
    )
    smtp = None
    if settings.smtp_port:
        smtp = await start_smtp_server(
            container.bus,
            settings.smtp_host,
            settings.smtp_port,
            max_bytes=settings.email_max_bytes,
            check_senders=settings.smtp_check_senders,
        )
    warm_templates(app)
    # Everything built so far (the app, the schema, the adapters, the compiled
    # templates) lives as long as the process; keeping it out of the collector's
    # sight cut the API's p99 from ~105 ms to ~35 ms (bench/ingest.py), because full
    # collections stop walking it.
    gc.collect()
    gc.freeze()
    try:
        if on_ready:
            print(on_ready, flush=True)
        await server.serve()
    finally:
        if smtp is not None:
            smtp.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(smtp.wait_closed(), 5)
        await container.aclose()
