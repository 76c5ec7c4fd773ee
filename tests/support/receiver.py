"""A local webhook receiver for the notifier's tests: records every POST, answers from a script."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.support.localserver import LocalServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    body: bytes = b"ok"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver(LocalServer):
    """Answers each path's POSTs with its scripted replies in order, then with `default` (200); a body
    over `max_bytes`, as Teams does, with 413."""

    def __init__(self, default: Reply | None = None, max_bytes: int | None = None) -> None:
        self.default = default or Reply()
        self.max_bytes = max_bytes
        self.received: list[Received] = []
        self._script: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        super().__init__(_handler(self))

    def url(self, path: str) -> str:
        return self.address(path)

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._script[path] = list(replies)

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def _next(self, path: str, request: Received) -> Reply:
        with self._lock:
            self.received.append(request)
            if self.max_bytes is not None and len(request.body) > self.max_bytes:
                return Reply(413, body=b"request entity too large")
            replies = self._script.get(path)
            return replies.pop(0) if replies else self.default


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes; without this, delayed ACKs add ~40 ms a reply.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
            reply = receiver._next(self.path, request)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout under test)

    return Handler
