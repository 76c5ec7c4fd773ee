"""Durable feed state in the compacted topic ``watchfloor.state``: latest value per ``feed:<id>`` key.

Reading the topic from the start to its end offsets rebuilds every feed's state on any host. A save is
sent (acks=all) only after the items it records were acknowledged, so durable state never runs ahead
of durable items; it is not waited for, so saves from many polls travel in one request. With several
ingest processes each writes only the feeds it owns, and ``refresh`` picks up the others' writes
before a feed changes hands.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from connectors.kafka_compacted import CompactedTopicReader
from connectors.kafka_sink import make_producer
from schemas.feedstate import FeedState

KEY_PREFIX = "feed:"
SAVE_LINGER_MS = 100
SAVE_BATCH_BYTES = 256 * 1024
log = logging.getLogger("watchfloor.ingest")


class StateStore(Protocol):
    def get(self, feed_id: str) -> FeedState | None: ...

    def save(self, state: FeedState) -> None: ...

    def refresh(self) -> None: ...

    def all(self) -> dict[str, FeedState]: ...


class MemoryStateStore:
    """For unit tests and one-off checks: the same contract, no durability."""

    def __init__(self) -> None:
        self._states: dict[str, FeedState] = {}

    def get(self, feed_id: str) -> FeedState | None:
        return self._states.get(feed_id)

    def save(self, state: FeedState) -> None:
        self._states[state.feed_id] = state

    def refresh(self) -> None:
        pass

    def all(self) -> dict[str, FeedState]:
        return dict(self._states)


class KafkaStateStore:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self._topic = topic
        # Nobody waits for a save's ack: a long linger batches many feeds' saves into one request, which
        # is what a save costs this process (kafka-python's sender is pure Python) and the broker.
        self._producer = make_producer(bootstrap, linger_ms=SAVE_LINGER_MS, batch_size=SAVE_BATCH_BYTES)
        self._reader = CompactedTopicReader(bootstrap, topic)
        self._states: dict[str, FeedState] = {}
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Read the topic up to its current end: afterwards every save so far is visible."""
        self._producer.flush()
        with self._lock:
            self._reader.catch_up(self._apply)

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if not key or not key.startswith(KEY_PREFIX.encode()):
            return
        feed_id = key.decode()[len(KEY_PREFIX) :]
        if value is None:
            self._states.pop(feed_id, None)
        else:
            self._states[feed_id] = FeedState.model_validate_json(value)

    def get(self, feed_id: str) -> FeedState | None:
        with self._lock:
            return self._states.get(feed_id)

    def all(self) -> dict[str, FeedState]:
        with self._lock:
            return dict(self._states)

    def save(self, state: FeedState) -> None:
        """Send without waiting for the ack.

        The items this state records were acknowledged before it was built, so a lost state write
        means an early re-poll and re-sent keys, never a lost item; ``refresh`` and ``close`` flush.
        """
        future = self._producer.send(
            self._topic, key=state.key.encode(), value=state.model_dump_json().encode()
        )
        future.add_errback(_log_unsaved, state.feed_id)
        with self._lock:
            self._states[state.feed_id] = state

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()
        self._reader.close()


def _log_unsaved(exc: BaseException, feed_id: str) -> None:
    log.error("feed state not saved", extra={"feed.id": feed_id, "error.message": str(exc)})
