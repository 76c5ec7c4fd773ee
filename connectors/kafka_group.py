"""Joining a Kafka consumer group so that the first join is the only one.

kafka-python 3.0.12 rebalances a second time right after a member's first join when the coordinator's
metadata snapshot of the subscribed topics was taken before its own metadata listed their partitions
(the snapshot changes, so the leader rejoins). If that second join takes longer than the ``poll`` that
runs it, the next ``poll`` finds the snapshots equal again, never collects the join's result and never
heartbeats: the member is evicted and stays without partitions, silently, for good (seen in clean-clone
CI: a notifier that delivered nothing, an ingester that owned no feed leases). Asking for the metadata
after subscribing, on the member's own consumer, updates the snapshot before the first join.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from kafka import ConsumerRebalanceListener, KafkaConsumer

POLL_S = 0.2


def subscribe_with_partitions(
    consumer: KafkaConsumer, topics: Sequence[str], listener: ConsumerRebalanceListener, wait_s: float
) -> list[str]:
    """Subscribe ``consumer`` to ``topics``, then fetch its metadata until it lists every topic's
    partitions (at most ``wait_s``: a topic created a moment ago may have none yet). Call before the
    first ``poll``. Returns the topics still without partitions."""
    consumer.subscribe(list(topics), listener=listener)
    deadline = time.monotonic() + wait_s
    while True:
        consumer.topics()  # a blocking metadata fetch of its own: the coordinator's snapshot follows it
        missing = [t for t in topics if not consumer.partitions_for_topic(t)]
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(POLL_S)
