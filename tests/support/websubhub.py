"""A WebSub hub for tests, written from the W3C Recommendation: it takes subscription requests (202),
verifies intent with a challenge on its own thread, grants leases and lets them expire, and
distributes content signed with each subscription's secret (X-Hub-Signature: sha256=...).

Knobs for misbehaving hubs: ``verifies=False`` never verifies; ``lease_s`` caps the lease granted;
``publish(..., signature=...)`` sends a wrong signature or none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl

import httpx

from tests.support.localserver import LocalServer


@dataclass
class HubSubscription:
    topic: str
    callback: str
    secret: str | None
    expires: float  # time.time()


@dataclass
class Hub(LocalServer):
    verifies: bool = True
    lease_s: int | None = None  # granted instead of what was asked for
    requests: list[dict[str, str]] = field(default_factory=list)
    verified: list[dict[str, str]] = field(default_factory=list)  # each verification the subscriber confirmed
    subscriptions: dict[tuple[str, str], HubSubscription] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        LocalServer.__init__(self, _handler(self), poll_s=0.05)

    @property
    def url(self) -> str:
        return self.address("/hub")

    def active(self, topic: str) -> list[HubSubscription]:
        with self._lock:
            return [s for s in self.subscriptions.values() if s.topic == topic and s.expires > time.time()]

    def expire(self, topic: str) -> None:
        """The lease ran out (as if time had passed)."""
        with self._lock:
            for sub in self.subscriptions.values():
                if sub.topic == topic:
                    sub.expires = 0.0

    def publish(
        self, topic: str, body: bytes, content_type: str = "application/rss+xml", signature: str = "valid"
    ) -> list[int]:
        """Distribute ``body`` to every active subscriber of ``topic``; their status codes. ``signature``:
        valid, wrong (signed with another secret) or none."""
        statuses = []
        for sub in self.active(topic):
            headers = {
                "Content-Type": content_type,
                "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
            }
            if sub.secret and signature != "none":
                key = sub.secret if signature == "valid" else "not-" + sub.secret
                headers["X-Hub-Signature"] = (
                    "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
                )
            statuses.append(httpx.post(sub.callback, content=body, headers=headers, timeout=30).status_code)
        return statuses

    def _request(self, form: dict[str, str]) -> int:
        with self._lock:
            self.requests.append(form)
        mode, topic, callback = form.get("hub.mode"), form.get("hub.topic"), form.get("hub.callback")
        if mode not in ("subscribe", "unsubscribe") or not topic or not callback:
            return 400
        if self.verifies:  # asynchronously, after the 202, as most hubs do
            threading.Thread(target=self._verify, args=(form,), daemon=True).start()
        return 202

    def _verify(self, form: dict[str, str]) -> None:
        mode, topic, callback = form["hub.mode"], form["hub.topic"], form["hub.callback"]
        lease = self.lease_s or int(form.get("hub.lease_seconds") or 86400)
        challenge = secrets.token_urlsafe(16)
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = str(lease)
        try:
            answer = httpx.get(callback, params=params, timeout=10)
        except httpx.HTTPError:
            return
        if not (200 <= answer.status_code < 300 and answer.text == challenge):
            return  # the subscriber does not agree: nothing changes
        with self._lock:
            self.verified.append(form)
            if mode == "subscribe":
                sub = HubSubscription(topic, callback, form.get("hub.secret"), time.time() + lease)
                self.subscriptions[(topic, callback)] = sub
            else:
                self.subscriptions.pop((topic, callback), None)


def announcing_hub(rss_body: bytes, hub: str | None, url: str) -> bytes:
    """An RSS document announcing ``hub`` with ``url`` as its topic (RSS carries Atom's link element)."""
    body = rss_body.decode()
    if hub:
        links = f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{url}"/>'
        body = body.replace(
            '<rss version="2.0">', '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
        )
        body = body.replace("<channel>", "<channel>" + links, 1)
    return body.encode()


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = hub._request(dict(parse_qsl(raw.decode())))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
