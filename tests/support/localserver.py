"""A local HTTP server for tests: a ThreadingHTTPServer on a free loopback port, serving from a daemon
thread while inside ``with``; the feed server, webhook receiver and WebSub hub are such servers."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class LocalServer:
    def __init__(
        self, handler: type[BaseHTTPRequestHandler], poll_s: float = 0.5, block_on_close: bool = True
    ) -> None:
        """`poll_s`: how often serve_forever looks for a shutdown (each test's exit waits for it once)."""
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = block_on_close
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(poll_s,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def address(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"
