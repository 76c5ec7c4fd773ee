"""The demo's local servers: feeds that replay the corpus over a few minutes, and a webhook sink.

The feed server publishes each article when the replay reaches its ``at`` (scaled by ``speed``), with
ETag and Last-Modified, so the real ingester polls it as it would poll a publisher. The sink checks
each delivery's Standard Webhooks signature and hands it to a callback (the terminal view prints it).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from connectors.demo.corpus import Corpus, DemoArticle, render_rss
from connectors.notify.signing import verify


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"


class ReplayFeeds(_Server):
    """``/feeds/<outlet>.xml``: the outlet's articles published so far in the replay."""

    def __init__(self, corpus: Corpus, *, speed: float = 1.0, port: int = 0) -> None:
        self.corpus = corpus
        self.speed = speed
        self.started = datetime.now(UTC)
        self._t0 = time.monotonic()
        super().__init__(_feed_handler(self), port)

    def published(self, outlet: str) -> list[DemoArticle]:
        elapsed = (time.monotonic() - self._t0) * self.speed
        return [a for a in self.corpus.by_outlet(outlet) if a.at.total_seconds() <= elapsed]

    def document(self, outlet: str) -> tuple[bytes, str, datetime] | None:
        """(RSS bytes, ETag, last modified) of the outlet's feed now; None for an unknown outlet."""
        if outlet not in self.corpus.outlets:
            return None
        articles = self.published(outlet)
        # Articles carry replay time: published "now", spaced as in the corpus.
        body = render_rss(self.corpus.outlets[outlet], articles, self.started)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = self.started + max((a.at for a in articles), default=self.started - self.started)
        return body, etag, modified

    @property
    def duration_s(self) -> float:
        """Wall-clock seconds until the last article is out."""
        return max(a.at.total_seconds() for a in self.corpus.articles) / self.speed


def _feed_handler(server: ReplayFeeds) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            name = self.path.removeprefix("/feeds/").removesuffix(".xml")
            doc = server.document(name) if self.path.startswith("/feeds/") else None
            if doc is None:
                self.send_error(404)
                return
            body, etag, modified = doc
            answer_feed(self, body, etag, modified)

    return Handler


def answer_feed(
    handler: BaseHTTPRequestHandler, body: bytes, etag: str, modified: datetime | None = None
) -> None:
    """A conditional GET of an RSS document: 304 when If-None-Match names ``etag``, else the body."""
    if handler.headers.get("If-None-Match") == etag:
        handler.send_response(304)
        handler.send_header("ETag", etag)
        handler.end_headers()
        return
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml; charset=utf-8")
    handler.send_header("ETag", etag)
    if modified is not None:
        handler.send_header("Last-Modified", format_datetime(modified, usegmt=True))
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class WebhookSink(_Server):
    """``POST /hooks/<name>``: verifies the signature, then calls ``on_delivery(payload, verified)``."""

    def __init__(
        self, secret: str, on_delivery: Callable[[dict[str, Any], bool], None], port: int = 0
    ) -> None:
        self.secret = secret
        self.on_delivery = on_delivery
        self.deliveries: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        super().__init__(_sink_handler(self), port)


def _sink_handler(sink: WebhookSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            ok = verify(sink.secret, headers, body, now=int(time.time()))
            try:
                payload = json.loads(body)
            except ValueError:
                self.send_error(400)
                return
            with sink.lock:
                sink.deliveries.append(payload)
            sink.on_delivery(payload, ok)
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
