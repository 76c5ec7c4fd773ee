"""The ingester: poll due feeds with a bounded worker pool, publish new items, then advance state.

One poll never raises: every failure becomes an outcome (metric, log line, state for the health table)
and, for bad input, a dead letter. A feed's state (validators, schedule, recently seen ids) is saved
only after Kafka acknowledged its items, so a crash at any point re-polls rather than loses.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Protocol

from connectors.feeds.digest import Digest, DigestRequest, ItemRecord, digest
from connectors.feeds.http import Fetcher, FetchError, Validators
from connectors.feeds.metrics import IngestMetrics
from connectors.feeds.schedule import PollOutcome, advance, initial_state
from connectors.feeds.statestore import StateStore
from connectors.feeds.websub.protocol import discover
from connectors.feeds.websub.subscriber import Subscriber
from schemas.deadletter import DeadLetter
from schemas.feed import FeedConfig
from schemas.feedstate import RECENT_IDS, RECENT_LINKS, FeedState

log = logging.getLogger("watchfloor.ingest")


class Publisher(Protocol):
    def publish(self, items: Sequence[ItemRecord], dead_letters: Sequence[DeadLetter] = ()) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ingester:
    def __init__(
        self,
        feeds: Sequence[FeedConfig],
        fetcher: Fetcher,
        publisher: Publisher,
        store: StateStore,
        *,
        metrics: IngestMetrics | None = None,
        workers: int = 8,
        owns: Callable[[str], bool] = lambda _feed_id: True,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        digester: Callable[[DigestRequest], Digest] = digest,
        websub: Subscriber | None = None,
    ) -> None:
        self.feeds = list(feeds)
        self._fetcher = fetcher
        self._publisher = publisher
        self._store = store
        self.metrics = metrics or IngestMetrics()
        self._workers = workers
        self.owns = owns
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._in_flight: dict[str, Future[PollOutcome]] = {}
        self._digest = digester
        self.websub = websub
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # -- one feed ---------------------------------------------------------------------------------
    def _feed_lock(self, feed_id: str) -> threading.Lock:
        """Held while a body of the feed is digested, published and its state saved: a poll and a push
        of one feed never interleave, so neither forgets the other's item ids."""
        with self._locks_guard:
            return self._locks.setdefault(feed_id, threading.Lock())

    def poll(self, feed: FeedConfig) -> PollOutcome:
        now = self._clock()
        state = self._store.get(feed.id) or initial_state(feed, now)
        started = time.monotonic()
        try:
            result = self._fetcher.fetch(state.url, Validators(state.etag, state.last_modified))
        except FetchError as exc:
            outcome = PollOutcome(
                "error",
                now,
                error_kind=exc.kind,
                error=str(exc),
                status=exc.status,
                retry_after_s=exc.retry_after_s,
            )
            with self._feed_lock(feed.id):
                return self._finish(feed, self._store.get(feed.id) or state, outcome)
        finally:
            self.metrics.fetch_seconds.observe(time.monotonic() - started)
        with self._feed_lock(feed.id):
            state = self._store.get(feed.id) or state  # a push may have moved it on meanwhile
            if result.not_modified:
                outcome = PollOutcome(
                    "not_modified", now, max_age_s=result.max_age_s, permanent_url=result.permanent_url
                )
                return self._finish(feed, state, outcome)
            published = self._publish_body(
                feed, state, now, body=result.body, headers=result.headers, url=result.final_url
            )
            if isinstance(published, PollOutcome):
                return self._finish(feed, state, published)
            state, digested = published
            outcome = PollOutcome(
                "ok",
                now,
                new_items=len(digested.items),
                feed_hint_s=digested.feed_hint_s,
                etag=result.validators.etag,
                last_modified=result.validators.last_modified,
                max_age_s=result.max_age_s,
                permanent_url=result.permanent_url,
            )
            finished = self._finish(feed, state, outcome)
        self._discover(feed, result.headers, digested.feed_links, result.final_url)
        return finished

    def push(self, feed: FeedConfig, body: bytes, headers: Mapping[str, str], topic: str) -> PollOutcome:
        """Content a WebSub hub pushed: digested, deduplicated and published exactly like a poll's body
        (same item ids, same recent ids). A bad body is dead-lettered and a failed publish reported, but
        neither touches the poll schedule: the feed's next poll is the safety net."""
        now = self._clock()
        with self._feed_lock(feed.id):
            state = self._store.get(feed.id) or initial_state(feed, now)
            published = self._publish_body(feed, state, now, body=body, headers=headers, url=topic)
            if isinstance(published, PollOutcome):
                self.metrics.pushes.labels(published.error_kind or "error").inc()
                log.warning(
                    "pushed content not ingested",
                    extra={
                        "feed.id": feed.id,
                        "error.type": published.error_kind,
                        "error.message": published.error,
                    },
                )
                return published
            state, digested = published
            self.metrics.pushes.labels("ok").inc()
            outcome = PollOutcome(
                "ok", now, new_items=len(digested.items), etag=state.etag, last_modified=state.last_modified
            )
            return self._finish(feed, state, outcome, event="feed pushed")

    def _publish_body(
        self,
        feed: FeedConfig,
        state: FeedState,
        now: datetime,
        *,
        body: bytes,
        headers: Mapping[str, str],
        url: str,
    ) -> tuple[FeedState, Digest] | PollOutcome:
        """Digest a feed body and publish its new items: the state recording them and the digest, or the
        error outcome (a rejected body is dead-lettered)."""
        digested = self._digest(
            DigestRequest(
                body,
                dict(headers),
                url,
                feed,
                now,
                state.guid_unstable,
                state.link_guids,
                frozenset(state.recent_ids),
            )
        )
        if digested.rejected:
            kind, reason = digested.rejected
            return self._reject(feed, now, kind=kind, reason=reason, body=body)
        if digested.guid_unstable and not state.guid_unstable:
            log.warning(
                "feed changes GUIDs between fetches; identifying its items by link",
                extra={"feed.id": feed.id},
            )
        new = digested.items
        dead = [
            DeadLetter.of("NormalizeEntry", reason, f"{feed.id}#entry{index}", entry)
            for index, reason, entry in digested.failures
        ]
        try:
            self._publisher.publish(new, dead)
        except Exception as exc:  # any producer failure: state stays put, the feed is re-polled
            return PollOutcome("error", now, error_kind="publish", error=f"{type(exc).__name__}: {exc}")
        self.metrics.items.inc(len(new))
        for _ in dead:
            self.metrics.dead_letters.labels("NormalizeEntry").inc()
        links = {**state.link_guids, **digested.links}
        state = state.model_copy(
            update={
                "recent_ids": [*state.recent_ids, *(i.item_id for i in new)][-RECENT_IDS:],
                "link_guids": dict(list(links.items())[-RECENT_LINKS:]),
                "guid_unstable": digested.guid_unstable,
            }
        )
        return state, digested

    def _discover(
        self, feed: FeedConfig, headers: Mapping[str, str], links: Sequence[tuple[str, str]], url: str
    ) -> None:
        """WebSub: subscribe a feed whose response or document names a hub (never fails the poll)."""
        if self.websub is None:
            return
        try:
            self.websub.discovered(feed, discover(headers, links, url))
        except Exception:
            log.exception("websub discovery failed", extra={"feed.id": feed.id})

    def _reject(self, feed: FeedConfig, now: datetime, *, kind: str, reason: str, body: bytes) -> PollOutcome:
        """Bad input from the publisher: a dead letter with the body, and an error outcome; a publish
        error if the dead letter was not acknowledged, so that a push is not answered 2xx without it."""
        try:
            self._publisher.publish(
                [], [DeadLetter.of("FetchFeed", f"{kind}: {reason}", f"feed:{feed.id}", body)]
            )
        except Exception as exc:
            log.exception("could not dead-letter a rejected feed body", extra={"feed.id": feed.id})
            error = f"{kind}: {reason}; dead letter not acknowledged: {type(exc).__name__}: {exc}"
            return PollOutcome("error", now, error_kind="publish", error=error)
        self.metrics.dead_letters.labels("FetchFeed").inc()
        return PollOutcome("error", now, error_kind=kind, error=reason)

    def _finish(
        self, feed: FeedConfig, state: FeedState, outcome: PollOutcome, event: str = "feed polled"
    ) -> PollOutcome:
        gap = (outcome.at - state.last_new_item).total_seconds() if state.last_new_item else None
        updated = advance(state, feed, outcome, self._rng, gap)
        if self.websub is not None:  # a pushed feed is polled only as a safety net
            relaxed = self.websub.relaxed_due(feed.id, updated.next_due, outcome.at)
            updated = updated.model_copy(update={"next_due": relaxed})
        self.metrics.polls.labels(outcome.kind).inc()
        if outcome.error_kind:
            self.metrics.poll_errors.labels(outcome.error_kind).inc()
        fields = {
            "feed.id": feed.id,
            "event.outcome": outcome.kind,
            "watchfloor.new_items": outcome.new_items,
            "watchfloor.next_poll": updated.next_due.isoformat(),
        }
        if outcome.error_kind:
            fields |= {"error.type": outcome.error_kind, "error.message": outcome.error}
        log.log(logging.WARNING if outcome.kind == "error" else logging.INFO, event, extra=fields)
        try:
            self._store.save(updated)
        except Exception:  # unsaved state means the same items are polled again, never lost
            log.exception("could not save feed state", extra={"feed.id": feed.id})
        return outcome

    # -- many feeds -------------------------------------------------------------------------------
    def due(self, now: datetime) -> list[FeedConfig]:
        due = []
        for feed in self.feeds:
            if not feed.enabled or not self.owns(feed.id):
                continue
            state = self._store.get(feed.id)
            if state is None or (state.disabled_reason is None and state.next_due <= now):
                due.append(feed)
        return due

    def update_gauges(self, now: datetime) -> None:
        counts = {"ok": 0, "failing": 0, "overdue": 0, "silent": 0, "disabled": 0}
        for feed in self.feeds:
            state = self._store.get(feed.id)
            if not feed.enabled or (state and state.disabled_reason):
                counts["disabled"] += 1
            elif state and state.consecutive_failures:
                counts["failing"] += 1
            elif state and state.is_silent(now):
                counts["silent"] += 1
            elif state and (now - state.next_due).total_seconds() > 60:
                counts["overdue"] += 1
            else:
                counts["ok"] += 1
        for name, value in counts.items():
            self.metrics.feeds.labels(name).set(value)

    def run_once(self) -> list[PollOutcome]:
        """Poll every due feed once and return when all are done (cron, tests)."""
        with ThreadPoolExecutor(self._workers, thread_name_prefix="poll") as pool:
            outcomes = list(pool.map(self.poll, self.due(self._clock())))
        self.update_gauges(self._clock())
        return outcomes

    def wait_in_flight(self) -> None:
        """Block until every poll submitted by ``run_forever`` has finished and saved its state."""
        for future in list(self._in_flight.values()):
            future.result()

    def run_forever(self, stop: threading.Event, tick_s: float = 1.0) -> None:
        """Poll feeds as they fall due until ``stop`` is set; then finish in-flight polls and return."""
        with ThreadPoolExecutor(self._workers, thread_name_prefix="poll") as pool:
            while not stop.is_set():
                self._in_flight = {k: f for k, f in self._in_flight.items() if not f.done()}
                now = self._clock()
                for feed in self.due(now):
                    if feed.id not in self._in_flight and len(self._in_flight) < self._workers * 2:
                        self._in_flight[feed.id] = pool.submit(self.poll, feed)
                self.update_gauges(now)
                stop.wait(tick_s)
            log.info("stopping: waiting for %d in-flight polls", len(self._in_flight))
            self.wait_in_flight()
