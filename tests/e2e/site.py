"""A business's own web site, for the widget's browser tests: a tiny static HTTP
server in a thread, on a port of its own, so the pages it serves are on another
origin than the app (as every real site that embeds the widget is).

It is reached as ``http://localhost:PORT`` (the origin the seeded chat inbox
allows) and as ``http://127.0.0.1:PORT``, which is a different origin to the
browser and one no inbox allows: the same server plays the stranger's site too.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Site"]


class Site:
    """Pages by path, each with its own headers; anything else is 404."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"http://localhost:{port}"
        self.stranger = f"http://127.0.0.1:{port}"  # same server, another origin
        self._pages: dict[str, tuple[bytes, dict[str, str]]] = {}
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with site._lock:
                    found = site._pages.get(self.path.split("?", 1)[0])
                if found is None:
                    self.send_error(404)
                    return
                body, headers = found
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test's output is for the test

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Site:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def put(self, path: str, body: str, content_type: str, **headers: str) -> None:
        with self._lock:
            self._pages[path] = (body.encode(), {"Content-Type": content_type, **headers})
