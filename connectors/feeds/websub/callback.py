"""The WebSub callback endpoint: a small HTTP server hubs call to verify intent (GET) and to push
content (POST). Its last path segment is a subscription's token; any prefix before it is the reverse
proxy's business.

Hubs are strangers on the internet, so the server is as guarded as the fetcher: a body cap checked
against Content-Length before reading and again while reading, a socket timeout for every read and a
total deadline per request (a slow-drip hub cannot hold a thread), at most ``max_concurrent`` requests
handled at once (503 beyond), no chunked or compressed request bodies. A push is answered only after
its items were acknowledged by Kafka: a 5xx makes the hub retry, so nothing acknowledged is lost.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger("watchfloor.ingest")

READ_CHUNK = 64 * 1024
LINGER_S = 2.0


@dataclass(frozen=True)
class CallbackLimits:
    max_body_bytes: int = 2 * 1024 * 1024
    read_timeout_s: float = 20.0
    total_timeout_s: float = 60.0
    max_concurrent: int = 32


Verify = Callable[[str, Mapping[str, str]], tuple[int, bytes]]
"""(token, query parameters) -> (status, body) of a verification of intent."""
Deliver = Callable[[str, Mapping[str, str], bytes], int]
"""(token, lower-case headers, raw body) -> status of a content distribution."""


class _BodyError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class CallbackServer:
    """``with CallbackServer(("127.0.0.1", 0), verify, deliver) as server: server.port``."""

    def __init__(
        self,
        address: tuple[str, int],
        verify: Verify,
        deliver: Deliver,
        limits: CallbackLimits = CallbackLimits(),
    ) -> None:
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_concurrent)
        self._httpd = ThreadingHTTPServer(address, _handler(self, verify, deliver))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.1,), name="websub-callback", daemon=True
        )

    def __enter__(self) -> CallbackServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._thread.start()
        log.info("websub callback listening", extra={"server.port": self.port})

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])


_RETRY = {"Retry-After": "5"}
"""On every 503 (busy, Kafka not acknowledging, leases moving): when the hub may try again (RFC 9110
10.2.3); hubs that honour it come back once the cause has usually passed instead of at their own pace."""


def _token(path: str) -> str:
    return urlsplit(path).path.rstrip("/").rpartition("/")[2]


def _handler(server: CallbackServer, verify: Verify, deliver: Deliver) -> type[BaseHTTPRequestHandler]:
    limits = server.limits

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = limits.read_timeout_s  # every socket read; the deadline below bounds the whole body
        server_version = "Watchfloor-WebSub"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            self._guarded(self._verify)

        def do_POST(self) -> None:
            self._guarded(self._deliver)

        def _guarded(self, handle: Callable[[], tuple[int, bytes]]) -> None:
            if not server._slots.acquire(blocking=False):
                self.close_connection = True
                self._reply(503, b"busy", _RETRY)
                return
            try:
                status, body = handle()
            except _BodyError as exc:
                self.close_connection = True  # the rest of the body is unread
                self._reply(exc.status, exc.reason.encode())
                self._linger()
                return
            except (TimeoutError, ConnectionError):
                self.close_connection = True
                return
            finally:
                server._slots.release()
            self._reply(status, body, _RETRY if status == 503 else None)

        def _linger(self) -> None:
            """Read and drop what the hub is still sending, for a moment, so that it reads our refusal
            instead of a connection reset (as web servers' lingering close does)."""
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(LINGER_S)
                deadline = time.monotonic() + LINGER_S
                while time.monotonic() < deadline and self.connection.recv(READ_CHUNK):
                    pass
            except OSError:
                pass

        def _verify(self) -> tuple[int, bytes]:
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            return verify(_token(self.path), params)

        def _deliver(self) -> tuple[int, bytes]:
            body = self._read_body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            return deliver(_token(self.path), headers, body), b""

        def _read_body(self) -> bytes:
            if self.headers.get("Content-Encoding", "identity").strip().lower() not in ("identity", ""):
                raise _BodyError(415, "send an uncompressed body")
            if self.headers.get("Transfer-Encoding"):
                raise _BodyError(411, "send the body with a Content-Length, not chunked")
            declared = self.headers.get("Content-Length", "")
            if not (declared.isascii() and declared.isdigit()):
                raise _BodyError(411, "Content-Length required")
            if int(declared) > limits.max_body_bytes:
                raise _BodyError(413, f"body over {limits.max_body_bytes} bytes")
            deadline = time.monotonic() + limits.total_timeout_s
            left, chunks = int(declared), []
            while left:
                if time.monotonic() > deadline:
                    raise _BodyError(408, "body too slow")
                chunk = self.rfile.read1(min(left, READ_CHUNK))
                if not chunk:
                    raise ConnectionError("hub hung up mid-body")
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)

        def _reply(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
            except ConnectionError:
                self.close_connection = True

    return Handler
