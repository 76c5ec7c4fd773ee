"""Reading a compacted Kafka topic to its end: how the ingester's feed state and the notifier's tables
are rebuilt on any host (the latest value per key wins; a None value deletes the key)."""

from __future__ import annotations

from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition


class CompactedTopicReader:
    """Every partition of `topic` from the beginning, without a consumer group (nothing to commit)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        partitions = self._consumer.partitions_for_topic(topic)
        if not partitions:
            self._consumer.close()
            raise RuntimeError(f"state topic {topic!r} does not exist; run `watchfloor stack up`")
        self._tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        self._consumer.assign(self._tps)
        self._consumer.seek_to_beginning(*self._tps)

    def catch_up(self, apply: Callable[[bytes | None, bytes | None], None]) -> None:
        """`apply(key, value)` to every record up to the current end offsets: afterwards every write made
        before the call, from any host, has been seen."""
        end = self._consumer.end_offsets(self._tps)
        while any(self._consumer.position(tp) < end[tp] for tp in self._tps):
            for records in self._consumer.poll(timeout_ms=1000).values():
                for rec in records:
                    apply(rec.key, rec.value)

    def close(self) -> None:
        self._consumer.close()
