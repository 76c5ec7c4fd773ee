"""The subscriber side of WebSub: which feeds are subscribed where, and keeping that true over time.

- A poll that discovers a hub subscribes the feed (a fresh callback token and secret); a changed hub or
  topic re-subscribes it.
- The subscription is saved as pending *before* the request goes out: some hubs verify before they
  answer 202.
- ``tick`` renews an active subscription before its lease ends (a tenth of the lease ahead, at least a
  minute), gives up on a request the hub has not verified within the timeout (retried with backoff), and
  unsubscribes feeds that were removed, disabled or handed to another ingest process.
- While a subscription is active its feed is still polled, at ``poll_interval_s`` at most often: the
  safety net for pushes a hub drops.

State lives in a ``Table`` (the compacted state topic, keys ``websub:<feed id>``), so a restart keeps
answering the hub's verifications and checking pushes' signatures.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from connectors.feeds.websub.protocol import (
    SIGNATURE_HEADER,
    Discovery,
    answer_verification,
    new_secret,
    new_token,
    request_form,
    signature_valid,
)
from schemas.feed import FeedConfig
from schemas.websub import PendingMode, Subscription

log = logging.getLogger("watchfloor.ingest")

MIN_RENEW_AHEAD_S = 60.0
MAX_BACKOFF_S = 6 * 3600.0
REBALANCE_WAIT_S = 5.0
"""How long a push for a feed this process holds no lease of waits for a rebalance in progress to end
(well inside a hub's request timeout); after that it is answered 503, which the hub retries."""


class Table(Protocol):
    """Key → JSON rows, durable once ``put`` returns (``connectors.notify.table.CompactedTable``)."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any] | None) -> None: ...

    def items(self) -> list[tuple[str, dict[str, Any]]]: ...


class MemoryTable:
    """For unit tests and benches: the same contract, no durability."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self.rows.get(key)

    def put(self, key: str, value: dict[str, Any] | None) -> None:
        with self._lock:
            if value is None:
                self.rows.pop(key, None)
            else:
                self.rows[key] = value

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return list(self.rows.items())


@dataclass(frozen=True)
class SubscriberPolicy:
    callback_base: str  # the public URL; a subscription's callback is <base>/<token>
    lease_s: int = 86400
    poll_interval_s: int = 1800
    verify_timeout_s: float = 300.0
    request_timeout_s: float = 10.0


@dataclass(frozen=True)
class Push:
    """A content distribution the callback accepted: whose feed, to ingest through the poll path."""

    feed_id: str
    topic: str


class PushRejected(Exception):
    """A push to ignore; ``status`` is what the callback answers, ``reason`` the metric label."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def utc_now() -> datetime:
    return datetime.now(UTC)


class Subscriber:
    def __init__(
        self,
        table: Table,
        policy: SubscriberPolicy,
        client: httpx.Client,
        *,
        owns: Callable[[str], bool] = lambda _feed_id: True,
        settled: Callable[[float], bool] = lambda _wait_s: True,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._table = table
        self.policy = policy
        self._client = client
        self.owns = owns
        self.settled = settled  # (wait_s) -> whether ``owns`` is past any rebalance in progress
        self._clock = clock
        self._lock = threading.Lock()  # one decision at a time per process: the table is read-modify-write

    # -- state ------------------------------------------------------------------------------------
    def get(self, feed_id: str) -> Subscription | None:
        row = self._table.get(feed_id)
        return Subscription.model_validate(row) if row else None

    def _save(self, sub: Subscription) -> None:
        self._table.put(sub.feed_id, sub.model_dump(mode="json"))

    def subscriptions(self) -> list[Subscription]:
        return [Subscription.model_validate(row) for _, row in self._table.items()]

    def _by_token(self, token: str) -> Subscription | None:
        return next((s for s in self.subscriptions() if s.token == token), None)

    def pushed(self, feed_id: str) -> bool:
        """Whether the feed's pushes are expected now, so its polling can relax."""
        sub = self.get(feed_id)
        return sub is not None and sub.active(self._clock())

    def relaxed_due(self, feed_id: str, due: datetime, at: datetime) -> datetime:
        """The next poll of a pushed feed: no sooner than ``poll_interval_s`` after ``at``."""
        if not self.pushed(feed_id):
            return due
        return max(due, at + timedelta(seconds=self.policy.poll_interval_s))

    # -- discovery and requests ---------------------------------------------------------------------
    def discovered(self, feed: FeedConfig, found: Discovery | None) -> None:
        """After a successful poll: subscribe a feed that names a hub and has no matching subscription.
        A subscription replaced (new hub or topic) is not unsubscribed: its token is forgotten, so its
        pushes are answered 410 Gone, which ends it at the hub."""
        if found is None or not feed.enabled or not self.owns(feed.id):
            return
        with self._lock:
            sub = self.get(feed.id)
            if sub is not None and sub.topic == found.topic and sub.hub in found.hubs:
                return
            token = new_token()
            fresh = Subscription(
                feed_id=feed.id,
                topic=found.topic,
                hub=found.hubs[0],
                token=token,
                callback=f"{self.policy.callback_base.rstrip('/')}/{token}",
                secret=SecretStr(new_secret()),
            )
            pending = self._pending(fresh, "subscribe")
        self._send(pending)

    def _pending(self, sub: Subscription, mode: PendingMode) -> Subscription:
        """Record a request as pending before it is sent (under the lock)."""
        pending = sub.model_copy(update={"pending": mode, "requested": self._clock()})
        self._save(pending)
        return pending

    def _send(self, pending: Subscription) -> None:
        """Send a pending request, outside the lock: the hub may verify before it answers. A refused or
        failed request backs off."""
        mode = pending.pending or "subscribe"
        try:
            response = self._client.post(
                pending.hub,
                data=request_form(pending, mode, self.policy.lease_s),
                timeout=self.policy.request_timeout_s,
            )
            error = None if 200 <= response.status_code < 300 else f"hub answered HTTP {response.status_code}"
        except Exception as exc:  # transport errors, a forbidden address (SSRF guard): a failed request
            error = f"{type(exc).__name__}: {exc}"
        log.info(
            "websub request sent" if error is None else "websub request failed",
            extra={"feed.id": pending.feed_id, "websub.mode": mode, "error.message": error},
        )
        if error is None:
            return
        with self._lock:
            current = self.get(pending.feed_id)
            if current is not None and current.token == pending.token and current.pending == mode:
                self._save(self._failed(current, error))

    def _failed(self, sub: Subscription, error: str) -> Subscription:
        failures = sub.failures + 1
        backoff = min(self.policy.verify_timeout_s * 2 ** (failures - 1), MAX_BACKOFF_S)
        return sub.model_copy(
            update={
                "pending": None,
                "failures": failures,
                "last_error": error,
                "retry_at": self._clock() + timedelta(seconds=backoff),
            }
        )

    # -- the hub calls back ---------------------------------------------------------------------------
    def verify(self, token: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        """A verification of intent (GET on the callback): the status and body to answer."""
        with self._lock:
            sub = self._by_token(token)
            verdict = answer_verification(sub, params, self._clock())
            if verdict.changed and sub is not None:
                if verdict.subscription is None:
                    self._table.put(sub.feed_id, None)
                else:
                    self._save(verdict.subscription)
            log.info(
                "websub verification",
                extra={
                    "feed.id": sub.feed_id if sub else None,
                    "websub.mode": params.get("hub.mode"),
                    "http.response.status_code": verdict.status,
                },
            )
            return verdict.status, verdict.body

    def authenticate(self, token: str, headers: Mapping[str, str], body: bytes) -> Push:
        """Which feed a content distribution (POST on the callback) is for, if it is authentic.

        An unknown token is answered 410 Gone, which tells the hub to drop the subscription (spec 7). An
        unsigned or wrongly signed push is ignored but answered 2xx, as the spec allows, so that a
        forger learns nothing; the feed's polls still bring the real items.

        A push for a feed whose lease this process does not hold is ignored (2xx) only once the leases are
        settled: during a rebalance no process holds it, so the push waits for the assignment, or is
        answered 503 for the hub to retry, rather than acknowledged and dropped."""
        sub = self._by_token(token)
        if sub is None:
            raise PushRejected(410, "unknown_subscription")
        if not signature_valid(sub.secret.get_secret_value(), body, headers.get(SIGNATURE_HEADER)):
            raise PushRejected(202, "bad_signature" if headers.get(SIGNATURE_HEADER) else "unsigned")
        if not self.owns(sub.feed_id):
            if not self.settled(REBALANCE_WAIT_S):
                raise PushRejected(503, "rebalancing")
            if not self.owns(sub.feed_id):
                raise PushRejected(202, "not_owned")  # another ingest process owns the feed's state now
        return Push(sub.feed_id, sub.topic)

    # -- time passes ------------------------------------------------------------------------------------
    def tick(self, feeds: Iterable[FeedConfig]) -> None:
        """Renew, retry and unsubscribe as due; called every few seconds by the ingester."""
        wanted = {f.id for f in feeds if f.enabled and self.owns(f.id)}
        now = self._clock()
        to_send = []
        with self._lock:
            for sub in self.subscriptions():
                mode = self._due(sub, sub.feed_id in wanted, now)
                if mode is not None:
                    to_send.append(self._pending(sub, mode))
        for pending in to_send:
            self._send(pending)

    def _due(self, sub: Subscription, wanted: bool, now: datetime) -> PendingMode | None:
        """The request ``sub`` needs now, if any; settles timed-out and unwanted ones on the way."""
        if sub.pending:
            self._give_up_unverified(sub, now)
            return None
        if sub.retry_at and sub.retry_at > now:
            return None
        if not wanted:
            if sub.active(now):
                return "unsubscribe"
            self._table.put(sub.feed_id, None)
            return None
        if sub.expires is None or sub.lease_s is None:
            return "subscribe" if sub.retry_at else None  # a failed first request whose backoff is over
        ahead = max(MIN_RENEW_AHEAD_S, sub.lease_s / 10)
        return "subscribe" if sub.expires - now <= timedelta(seconds=ahead) else None  # renewal

    def _give_up_unverified(self, sub: Subscription, now: datetime) -> None:
        """A request the hub has not verified within the timeout has failed; a subscribe is retried
        with backoff, an unsubscribe is forgotten (its pushes are then answered 410 Gone)."""
        timeout = timedelta(seconds=self.policy.verify_timeout_s)
        if sub.requested is None or now - sub.requested <= timeout:
            return
        log.warning(
            "websub hub did not verify in time",
            extra={"feed.id": sub.feed_id, "websub.mode": sub.pending},
        )
        if sub.pending == "unsubscribe":
            self._table.put(sub.feed_id, None)
        else:
            self._save(self._failed(sub, f"hub did not verify within {timeout.total_seconds():g}s"))
