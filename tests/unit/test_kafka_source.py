from collections.abc import Callable
from typing import Any

import pytest
from apache_beam.io.restriction_trackers import OffsetRange
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.runners.sdf_utils import RestrictionTrackerView, ThreadsafeRestrictionTracker
from kafka import TopicPartition
from kafka.errors import IllegalStateError

from connectors.kafka_source import PartitionOffsetTracker, PartitionStart, _ReadPartitionFn

UNBOUNDED = 2**63 - 1


def test_dynamic_splits_are_refused() -> None:
    tracker = PartitionOffsetTracker(OffsetRange(10, UNBOUNDED))
    assert tracker.try_claim(10)
    assert tracker.try_split(0.5) is None
    assert tracker.current_restriction() == OffsetRange(10, UNBOUNDED)


def test_checkpoint_split_hands_over_the_rest_of_the_partition() -> None:
    tracker = PartitionOffsetTracker(OffsetRange(10, UNBOUNDED))
    assert tracker.try_claim(10)
    assert tracker.try_claim(14)  # offsets may have gaps (compaction, transaction markers)
    primary, residual = tracker.try_split(0)
    assert primary == OffsetRange(10, 15)
    assert residual == OffsetRange(15, UNBOUNDED)
    assert not tracker.try_claim(15)


class ClosingConsumer:
    """A consumer that the worker's teardown closes while ``process`` uses it (another thread in Beam):
    ``hook`` runs the teardown at the moment ``process`` seeks; a closed consumer refuses to poll."""

    hook: Callable[[], None] = staticmethod(lambda: None)

    def __init__(self, **_config: Any) -> None:
        self.closed = False

    def assign(self, _tps: list[TopicPartition]) -> None:
        pass

    def position(self, _tp: TopicPartition) -> int:
        return 0

    def seek(self, _tp: TopicPartition, _offset: int) -> None:
        ClosingConsumer.hook()

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[Any]]:
        if self.closed:
            raise IllegalStateError("KafkaConsumer is closed")
        return {}

    def close(self) -> None:
        self.closed = True


def _process(fn: _ReadPartitionFn, start: int) -> tuple[list[Any], ThreadsafeRestrictionTracker]:
    tracker = ThreadsafeRestrictionTracker(PartitionOffsetTracker(OffsetRange(start, UNBOUNDED)))
    view = RestrictionTrackerView(tracker)
    return list(fn.process(PartitionStart("t", 0, start), view, ManualWatermarkEstimator(None))), tracker


def test_a_teardown_while_polling_ends_the_bundle_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancelled job's worker tears the source down mid-bundle: no 'KafkaConsumer is closed' traceback,
    nothing claimed, the partition deferred whole (read again after a restart)."""
    monkeypatch.setattr("connectors.kafka_source.KafkaConsumer", ClosingConsumer)
    fn = _ReadPartitionFn("127.0.0.1:1", 500, 100, 2.0)
    fn.setup()
    monkeypatch.setattr(ClosingConsumer, "hook", staticmethod(fn.teardown))
    out, tracker = _process(fn, 7)
    assert out == []
    assert tracker.current_restriction().start == 7  # nothing claimed
    assert tracker.deferred_status() is not None
    again, _ = _process(fn, 7)  # a process call after teardown does not reopen a consumer
    assert again == []


def test_a_closed_consumer_without_teardown_is_still_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connectors.kafka_source.KafkaConsumer", ClosingConsumer)
    fn = _ReadPartitionFn("127.0.0.1:1", 500, 100, 2.0)
    fn.setup()

    def close_it_behind_the_sources_back() -> None:
        fn._consumers[TopicPartition("t", 0)].close()

    monkeypatch.setattr(ClosingConsumer, "hook", staticmethod(close_it_behind_the_sources_back))
    with pytest.raises(IllegalStateError):
        _process(fn, 7)
