"""CommitOffsetsFn called directly, with a fake consumer and a fake Beam state cell for its partition key."""

import pickle
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import IllegalStateError

from connectors.kafka_commit import CommitOffsetsFn, by_partition
from pipeline.tracking import Origin, Receipt
from tests.support.keyed_state import StateCell

TOPIC = "watchfloor.items"


class _Consumer:
    def __init__(self, committed: int | None = None, beginning: int = 0) -> None:
        self._committed = committed
        self._beginning = beginning
        self.commits: list[dict[TopicPartition, int]] = []

    def committed(self, tp: TopicPartition) -> int | None:
        return self._committed

    def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, self._beginning)

    def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})

    def close(self, autocommit: bool = True) -> None:
        pass


def _fn(consumer: Any) -> CommitOffsetsFn:
    fn = CommitOffsetsFn("127.0.0.1:1", "g")
    fn._consumer = consumer
    return fn


def _receipt(offset: int, partition: int = 0, part: str = "article", parts: int = 1) -> Receipt:
    return Receipt(Origin(TOPIC, partition, offset, offset), part, parts)


def _complete(fn: CommitOffsetsFn, cell: StateCell, *receipts: Receipt) -> None:
    for receipt in receipts:
        fn.process(by_partition(receipt), owner=cell)
    fn.finish_bundle()


def test_a_partitions_first_receipt_starts_at_the_groups_committed_offset() -> None:
    consumer = _Consumer(committed=10, beginning=0)
    fn, cell = _fn(consumer), StateCell()
    _complete(fn, cell, _receipt(9), _receipt(10), _receipt(11))
    assert consumer.commits == [{TopicPartition(TOPIC, 0): 12}]


def test_receipts_are_keyed_by_partition() -> None:
    assert by_partition(_receipt(3, partition=2))[0] != by_partition(_receipt(3, partition=1))[0]
    assert by_partition(_receipt(3, partition=2))[0] == by_partition(_receipt(7, partition=2))[0]


def test_instances_of_the_step_in_one_worker_share_a_partitions_tracker() -> None:
    """Prism runs a key's bundles on several instances at once: parts of one record reach both."""
    cell, consumer = StateCell(), _Consumer(committed=0)
    first = _fn(consumer)
    second = pickle.loads(pickle.dumps(_fn(None)))  # the same step's other instance
    second._trackers = first._trackers
    second._consumer = consumer
    first.start_bundle()
    second.start_bundle()
    _complete(first, cell, _receipt(0, part="article", parts=2))
    _complete(second, cell, _receipt(0, part="es:a1", parts=2))
    assert consumer.commits == [{TopicPartition(TOPIC, 0): 1}]


class _ClosedConsumer(_Consumer):
    def commit(self, offsets: Any) -> None:
        raise IllegalStateError("KafkaConsumer is closed")


@pytest.mark.parametrize("torn_down", [False, True])
def test_a_failed_commit_warns_unless_the_worker_is_shutting_down(
    torn_down: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A stopping runner tears CommitOffsets down mid-bundle: that commit's failure is no news."""
    fn, cell = _fn(_ClosedConsumer(committed=0)), StateCell()
    fn.process(by_partition(_receipt(0)), owner=cell)
    if torn_down:
        fn.teardown()
    fn.finish_bundle()
    assert ("offset commit failed" in caplog.text) is not torn_down
    assert fn._uncommitted == {(TOPIC, 0): 1}
