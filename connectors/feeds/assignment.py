"""Split feeds across ingest processes with Kafka's consumer-group protocol.

Every process joins one group on the record-less topic ``watchfloor.ingest-leases``; a feed belongs to
partition ``crc32(feed_id) % partitions`` and is polled only by the process that holds that partition.
When a process dies, the broker's session timeout hands its partitions (and so its feeds) to the rest;
their state is in the compacted state topic, so they carry on where it stopped.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition

from connectors.kafka_group import subscribe_with_partitions

log = logging.getLogger("watchfloor.ingest")


def lease_of(feed_id: str, partitions: int) -> int:
    return zlib.crc32(feed_id.encode()) % partitions


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: GroupAssignment) -> None:
        self._owner = owner

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._owner._settled.clear()
        held = {tp.partition for tp in self._owner._consumer.assignment()}
        self._owner._set(held - {tp.partition for tp in revoked})
        # Finish (and save) in-flight polls before anyone else may take these feeds over.
        self._owner._on_revoke()

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        # Read every save acknowledged so far, so feeds taken over are not polled again too early.
        self._owner._on_assign()
        self._owner._set({tp.partition for tp in self._owner._consumer.assignment()})
        self._owner._settled.set()


class GroupAssignment:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group_id: str,
        *,
        on_revoke: Callable[[], None] = lambda: None,
        on_assign: Callable[[], None] = lambda: None,
    ) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            session_timeout_ms=10000,
            heartbeat_interval_ms=2000,
        )
        self._owned: frozenset[int] = frozenset()
        self._lock = threading.Lock()
        self._settled = threading.Event()
        self._on_revoke = on_revoke
        self._on_assign = on_assign
        if subscribe_with_partitions(self._consumer, [topic], _Listener(self), wait_s=0):
            self._consumer.close()
            raise RuntimeError(f"lease topic {topic!r} does not exist; run `watchfloor stack up`")
        self.partitions = len(self._consumer.partitions_for_topic(topic))
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._member, name="feed-leases", daemon=True)
        self._thread.start()

    def _set(self, owned: set[int]) -> None:
        with self._lock:
            changed = frozenset(owned) != self._owned
            self._owned = frozenset(owned)
        if changed:
            log.info("feed leases changed", extra={"watchfloor.leases": sorted(owned)})

    def _member(self) -> None:
        """Take part in the group from a thread of its own, polling without pause.

        A join takes several round trips inside polls; polled only now and then from the ingest loop,
        kafka-python restarts unfinished joins, and each restart rebalances every other member too
        (measured: a rebalance every 2-3 s and feeds polled by both processes).
        """
        while not self._closing.is_set():
            self._consumer.poll(timeout_ms=500)

    def owns(self, feed_id: str) -> bool:
        with self._lock:
            return lease_of(feed_id, self.partitions) in self._owned

    def settled(self, wait_s: float) -> bool:
        """Whether the leases held are this process's current share, waiting up to ``wait_s`` while a
        rebalance is in progress (from revocation to assignment, ``owns`` is False for every feed)."""
        return self._settled.wait(wait_s)

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=30)
        self._consumer.close()
