from pipeline.tracking import OffsetTracker, Origin, Receipt

TOPIC = "watchfloor.items"
TP0 = (TOPIC, 0)
TP1 = (TOPIC, 1)


def _origin(offset: int, first: int | None = None, partition: int = 0) -> Origin:
    return Origin(TOPIC, partition, offset, offset if first is None else first)


def _receipt(offset: int, part: str = "article", parts: int = 1, **kw: int) -> Receipt:
    return Receipt(_origin(offset, **kw), part, parts)


def test_origin_names_its_partition_and_prints_like_a_kafka_position() -> None:
    origin = Origin(TOPIC, 3, 41, 39)
    assert origin.tp == (TOPIC, 3)
    assert str(origin) == "watchfloor.items/3@41"


def test_in_order_single_part_records_advance_one_past_the_last() -> None:
    tracker = OffsetTracker({TP0: 0})
    tracker.complete(_receipt(0))
    tracker.complete(_receipt(1))
    assert tracker.advance() == {TP0: 2}
    assert tracker.advance() == {}


def test_a_record_is_done_only_when_every_part_has_a_receipt() -> None:
    tracker = OffsetTracker({TP0: 0})
    tracker.complete(_receipt(0, "article", 3))
    tracker.complete(_receipt(0, "es:a1", 3))
    assert tracker.advance() == {}
    assert tracker.pending() == 1
    tracker.complete(_receipt(0, "kafka:a1", 3))
    assert tracker.pending() == 0
    assert tracker.advance() == {TP0: 1}


def test_out_of_order_completion_holds_the_commit_at_the_first_unfinished_record() -> None:
    tracker = OffsetTracker({TP0: 10})
    tracker.complete(_receipt(12))
    tracker.complete(_receipt(11))
    assert tracker.advance() == {}, "offset 10 is not written yet"
    tracker.complete(_receipt(10))
    assert tracker.advance() == {TP0: 13}


def test_an_unfinished_record_in_the_middle_stops_the_advance_there() -> None:
    tracker = OffsetTracker({TP0: 0})
    tracker.complete(_receipt(0))
    tracker.complete(_receipt(1, "article", 2))  # one of two parts
    tracker.complete(_receipt(2))
    assert tracker.advance() == {TP0: 1}
    tracker.complete(_receipt(1, "es:x", 2))
    assert tracker.advance() == {TP0: 3}


def test_duplicate_receipts_from_a_retried_bundle_count_once() -> None:
    tracker = OffsetTracker({TP0: 0})
    tracker.complete(_receipt(0, "article", 2))
    tracker.complete(_receipt(0, "article", 2))
    assert tracker.advance() == {}, "the same part twice is still one of two parts"
    assert tracker.pending() == 1
    tracker.complete(_receipt(0, "es:x", 2))
    assert tracker.advance() == {TP0: 1}
    assert tracker.pending() == 0


def test_a_duplicate_receipt_for_a_finished_record_before_the_advance_leaves_nothing_pending() -> None:
    # Offset 0 is unfinished, so offset 1 (finished) waits; a retried bundle resends one of its parts.
    tracker = OffsetTracker({TP0: 0})
    for part in ("article", "es:x", "kafka:x"):
        tracker.complete(_receipt(1, part, 3))
    tracker.complete(_receipt(1, "article", 3))
    assert tracker.pending() == 0
    tracker.complete(_receipt(0))
    assert tracker.advance() == {TP0: 2}
    assert tracker.pending() == 0


def test_a_record_covers_the_gap_before_it() -> None:
    # Offsets 5 and 6 are transaction markers: the record at 7 accounts for them (first=5).
    tracker = OffsetTracker({TP0: 5})
    tracker.complete(_receipt(7, first=5))
    assert tracker.advance() == {TP0: 8}


def test_gaps_covered_by_later_records_wait_for_the_earlier_ones() -> None:
    # Records at 2 (covering 0-2) and 7 (covering 3-7); the later one finishes first.
    tracker = OffsetTracker({TP0: 0})
    tracker.complete(_receipt(7, first=3))
    assert tracker.advance() == {}
    tracker.complete(_receipt(2, first=0))
    assert tracker.advance() == {TP0: 8}


def test_a_range_reaching_below_the_committed_position_still_counts() -> None:
    # The job resumed at 5 but the reader's first record says it covers 3-7.
    tracker = OffsetTracker({TP0: 5})
    tracker.complete(_receipt(7, first=3))
    assert tracker.advance() == {TP0: 8}


def test_an_unknown_first_offset_does_not_commit_past_unfinished_records() -> None:
    # first=-1 is KafkaRecord's "unknown": the record may only account for itself.
    tracker = OffsetTracker({TP0: 5})
    tracker.complete(_receipt(7, first=-1))
    assert tracker.advance() == {}, "offsets 5 and 6 have not been written"
    tracker.complete(_receipt(5))
    tracker.complete(_receipt(6))
    assert tracker.advance() == {TP0: 8}


def test_receipts_below_the_committed_position_are_ignored() -> None:
    tracker = OffsetTracker({TP0: 10})
    tracker.complete(_receipt(4, "article", 2))  # a replay of something already committed
    tracker.complete(_receipt(9))
    assert tracker.pending() == 0
    assert tracker.advance() == {}


def test_receipts_for_partitions_the_job_does_not_read_are_ignored() -> None:
    tracker = OffsetTracker({TP0: 0})
    tracker.complete(_receipt(0, partition=5))
    tracker.complete(Receipt(Origin("other.topic", 0, 0, 0), "article", 1))
    assert tracker.pending() == 0
    assert tracker.advance() == {}


def test_advance_returns_only_the_partitions_that_moved() -> None:
    tracker = OffsetTracker({TP0: 0, TP1: 100})
    tracker.complete(_receipt(0))
    tracker.complete(_receipt(101, partition=1))  # 100 is still open
    assert tracker.advance() == {TP0: 1}
    tracker.complete(_receipt(100, partition=1))
    assert tracker.advance() == {TP1: 102}
    assert tracker.advance() == {}


def test_a_dead_letter_is_the_single_part_that_settles_an_item() -> None:
    tracker = OffsetTracker({TP0: 0})
    tracker.complete(Receipt(_origin(0), "dead", 1))
    assert tracker.advance() == {TP0: 1}
