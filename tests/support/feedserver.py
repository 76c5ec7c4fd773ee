"""A local HTTP server for tests that talk real HTTP: routes are registered at run time, requests recorded.

HTTP/1.1 with keep-alive: fixed bodies carry a Content-Length, callable bodies are streamed chunked
(unless the route sets its own Content-Length, to let a test lie about it). Clients that hang up
mid-response are normal here (that is what size and time caps do) and are ignored quietly.

The server listens on loopback, which fetchers refuse by default: tests allow it with ``LOOPBACK`` (a
``FetchPolicy``) or ``LOOPBACK_ENV`` (for a ``watchfloor ingest`` process).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from ipaddress import ip_network

from connectors.feeds.http import FetchPolicy
from tests.support.localserver import LocalServer

LOOPBACK_NETWORK = ip_network("127.0.0.0/8")
LOOPBACK = FetchPolicy(allow_networks=(LOOPBACK_NETWORK,))
LOOPBACK_ENV = {"WATCHFLOOR_INGEST_ALLOW_NETWORKS": str(LOOPBACK_NETWORK)}


@dataclass
class Route:
    """How the server answers one path."""

    status: int = 200
    body: bytes | Callable[[], Iterator[bytes]] = b""  # callable: streamed chunks (slow drip, huge bodies)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before sending headers
    etag: str | None = None  # if set: sent as ETag, and a matching If-None-Match gets a 304
    last_modified: str | None = None  # same for If-Modified-Since (exact string match)
    raw: bytes | None = None  # if set: written as is, in one write, instead of a response (misbehaving)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it."""

    path: str  # the request target, query included
    headers: dict[str, str]  # lower-case names


class FeedServer(LocalServer):
    """``with FeedServer() as server: server.route("/feed", Route(body=...)); get(server.url("/feed"))``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self.max_concurrent = 0  # most requests in flight at once, to check client-side limits
        self.connections = 0  # TCP connections accepted, to check that clients keep them alive
        self._active = 0
        self._lock = threading.Lock()
        super().__init__(_handler_for(self), poll_s=0.02, block_on_close=False)

    def url(self, path: str) -> str:
        return self.address(path)

    def route(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def hits(self, path: str) -> int:
        return sum(r.path == path for r in self.requests)

    def _enter(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1


def _not_modified(route: Route, headers: dict[str, str]) -> bool:
    """If-None-Match wins over If-Modified-Since, as in RFC 9110 13.2.2."""
    if route.etag and "if-none-match" in headers:
        return route.etag in [tag.strip() for tag in headers["if-none-match"].split(",")]
    return route.last_modified is not None and headers.get("if-modified-since") == route.last_modified


def _handler_for(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall

        def handle(self) -> None:
            with server._lock:
                server.connections += 1
            with contextlib.suppress(ConnectionError):
                super().handle()

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            request = RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()})
            server._enter(request)
            try:
                self._answer(server.routes.get(self.path, Route(status=404, body=b"no such route")), request)
            except ConnectionError:
                self.close_connection = True
            finally:
                server._leave()

        def _answer(self, route: Route, request: RecordedRequest) -> None:
            time.sleep(route.delay_s)
            if route.raw is not None:
                self.wfile.write(route.raw)
                return
            not_modified = _not_modified(route, request.headers)
            headers = dict(route.headers)
            if route.etag:
                headers["ETag"] = route.etag
            if route.last_modified:
                headers["Last-Modified"] = route.last_modified
            has_length = any(name.lower() == "content-length" for name in headers)
            chunked = callable(route.body) and not has_length and not not_modified
            if chunked:
                headers["Transfer-Encoding"] = "chunked"
            elif isinstance(route.body, bytes) and not has_length and not not_modified:
                headers["Content-Length"] = str(len(route.body))
            self.send_response(304 if not_modified else route.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not_modified:
                return
            chunks = route.body() if callable(route.body) else [route.body]
            for chunk in chunks:
                if chunked and chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                elif not chunked:
                    self.wfile.write(chunk)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")

    return Handler
