"""Joining a consumer group with `subscribe_with_partitions`, against the real broker.

kafka-python 3.0.12 rebalanced again right after a member's first join when its metadata snapshot
predated the topics' partitions, and a second join that outlasted the ``poll`` running it was never
completed: the member stayed without partitions for good (a notifier delivering nothing in the demo).
Polling in 5 ms slices makes a join outlast its poll every time; fresh metadata after the join shows
whether the join's snapshot was already up to date (no second rebalance, nothing revoked).
"""

from __future__ import annotations

import time
import uuid

from kafka import ConsumerRebalanceListener, KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.kafka_group import subscribe_with_partitions
from connectors.stack.local import LocalStack

DEADLINE_S = 60
MEMBERS = 3


class Revocations(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self) -> None:
        self.revoked: list[object] = []

    def on_partitions_revoked(self, revoked: list[object]) -> None:
        if revoked:
            self.revoked.append(revoked)

    def on_partitions_assigned(self, assigned: object) -> None:
        pass


def test_members_polled_in_short_slices_get_the_partitions_of_a_topic_created_just_before(
    stack: LocalStack,
) -> None:
    bootstrap = stack.settings.kafka_bootstrap
    for _ in range(MEMBERS):
        topic = f"wf-group-{uuid.uuid4().hex[:8]}"
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(topic, 3, 1)])
        admin.close()
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=f"wf-group-{uuid.uuid4().hex[:8]}",
            enable_auto_commit=False,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
        )
        try:
            listener = Revocations()
            assert subscribe_with_partitions(consumer, [topic], listener, wait_s=30) == []
            deadline = time.monotonic() + DEADLINE_S
            while len(consumer.assignment()) < 3:
                assert time.monotonic() < deadline, "the member never got its partitions"
                consumer.poll(timeout_ms=5)
            # Fresh metadata after the join (as the periodic refresh brings) must not start another one.
            consumer.topics()
            for _ in range(20):
                consumer.poll(timeout_ms=5)
            assert listener.revoked == [] and len(consumer.assignment()) == 3
        finally:
            consumer.close()
