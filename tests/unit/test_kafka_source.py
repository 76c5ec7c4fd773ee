from apache_beam.io.restriction_trackers import OffsetRange

from connectors.kafka_source import PartitionOffsetTracker

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
