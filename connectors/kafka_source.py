"""Read Kafka in a Beam streaming pipeline: a splittable DoFn over kafka-python, one restriction a partition.

Why not Beam's ``ReadFromKafka``: it is Java KafkaIO behind an expansion-service jar that Beam downloads
at run time, and no matching jar is served here (docs/adr/0001-streaming-runner.md). This source is
plain Python, so it runs unchanged on Prism, Flink and Dataflow.

Each partition is one element with an unbounded ``OffsetRange``; a ``process`` call polls once, claims
each record's offset, and defers the remainder, which lets the runner checkpoint between polls. The
watermark is the newest record timestamp seen, and follows wall-clock (less ``idle_lag``) while a
partition is idle so that event-time timers downstream keep firing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.pvalue import PBegin, PCollection
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp
from kafka import KafkaConsumer, TopicPartition

_UNBOUNDED = 2**63 - 1


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: tuple[tuple[str, bytes], ...] = ()
    first: int = -1
    """The lowest offset this record accounts for: offsets between the previous record its reader claimed
    and this one do not exist (transaction markers, compacted or expired records), so committing past
    this record commits past them too. -1 when unknown."""

    @property
    def origin(self) -> str:
        return f"{self.topic}/{self.partition}@{self.offset}"


@dataclass(frozen=True)
class PartitionStart:
    topic: str
    partition: int
    offset: int


def discover_partitions(bootstrap: str, topics: Iterable[str], group_id: str | None) -> list[PartitionStart]:
    """Every partition of ``topics`` with where to start: the group's committed offset, else the beginning."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        missing = [t for t in topics if not any(tp.topic == t for tp in tps)]
        if missing:
            raise ValueError(f"Kafka topics not found: {missing}")
        beginning = consumer.beginning_offsets(tps)
        starts = []
        for tp in tps:
            committed = consumer.committed(tp) if group_id else None
            starts.append(
                PartitionStart(tp.topic, tp.partition, committed if committed is not None else beginning[tp])
            )
        return starts
    finally:
        consumer.close()


class PartitionOffsetTracker(OffsetRestrictionTracker):
    """Offsets of one partition, split only at checkpoints.

    A dynamic split of ``[start, 2**63)`` at a fraction lands at an offset far past the log end, whose
    reader would then seek out of range; a partition is read in order by one reader anyway, so only
    the runner's checkpoint split (fraction 0, after ``defer_remainder``) is accepted.
    """

    def try_split(self, fraction_of_remainder: float) -> tuple[OffsetRange, OffsetRange] | None:
        if fraction_of_remainder > 0:
            return None
        return super().try_split(fraction_of_remainder)


class _PartitionRestrictions(RestrictionProvider):
    def initial_restriction(self, element: PartitionStart) -> OffsetRange:
        return OffsetRange(element.offset, _UNBOUNDED)

    def create_tracker(self, restriction: OffsetRange) -> PartitionOffsetTracker:
        return PartitionOffsetTracker(restriction)

    def restriction_size(self, element: PartitionStart, restriction: OffsetRange) -> int:
        return 1


class _ReadPartitionFn(beam.DoFn):
    def __init__(self, bootstrap: str, max_records: int, poll_timeout_ms: int, idle_lag_s: float) -> None:
        self._bootstrap = bootstrap
        self._max_records = max_records
        self._poll_timeout_ms = poll_timeout_ms
        self._idle_lag = Duration(seconds=idle_lag_s)
        self._consumers: dict[TopicPartition, KafkaConsumer] = {}
        self._torn_down = False

    def setup(self) -> None:
        self._consumers = {}
        self._torn_down = False

    def teardown(self) -> None:
        """Also runs while ``process`` polls, on another thread: a runner that stops (a cancelled job)
        shuts its worker down with bundles still active, so ``process`` must expect closed consumers."""
        self._torn_down = True
        consumers, self._consumers = self._consumers, {}
        for consumer in consumers.values():
            consumer.close()

    def _consumer(self, tp: TopicPartition) -> KafkaConsumer:
        consumer = self._consumers.get(tp)
        if consumer is None:
            consumer = KafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                max_poll_records=self._max_records,
                isolation_level="read_committed",
                # If retention deleted what we asked for, resume at the oldest record left, never at the end.
                auto_offset_reset="earliest",
            )
            consumer.assign([tp])
            self._consumers[tp] = consumer
        return consumer

    def _poll(self, tp: TopicPartition, start: int) -> list[Any] | None:
        """The next records of ``tp`` from ``start``; None once teardown has closed the consumers."""
        if self._torn_down:
            return None
        try:
            consumer = self._consumer(tp)
            if consumer.position(tp) != start:
                consumer.seek(tp, start)
            return list(consumer.poll(timeout_ms=self._poll_timeout_ms).get(tp, []))
        except Exception:
            if self._torn_down:  # 'KafkaConsumer is closed', or its client closed mid-request
                return None
            raise

    @beam.DoFn.unbounded_per_element()  # type: ignore[untyped-decorator]
    def process(
        self,
        element: PartitionStart,
        tracker: Any = beam.DoFn.RestrictionParam(_PartitionRestrictions()),
        watermark: Any = beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ) -> Iterator[Any]:
        tp = TopicPartition(element.topic, element.partition)
        start = tracker.current_restriction().start
        records = self._poll(tp, start)
        if records is None:  # the worker is shutting down: nothing claimed, the partition is the residual
            tracker.defer_remainder()
            return
        stopped = False
        first = start
        for rec in records:
            if rec.offset < start:
                continue  # already claimed by an earlier restriction of this partition
            if not tracker.try_claim(rec.offset):
                stopped = True  # the runner split the restriction here; the rest belongs to the residual
                break
            ts = Timestamp.of(rec.timestamp / 1000.0)
            _advance(watermark, ts)
            yield TimestampedValue(
                KafkaRecord(
                    rec.topic,
                    rec.partition,
                    rec.offset,
                    rec.key,
                    rec.value,
                    rec.timestamp,
                    tuple((k, bytes(v)) for k, v in (rec.headers or ())),
                    first,
                ),
                ts,
            )
            first = rec.offset + 1
        if not stopped:
            if not records:
                _advance(watermark, Timestamp.now() - self._idle_lag)
            tracker.defer_remainder(Duration(seconds=0) if records else Duration(seconds=0.2))


def _advance(estimator: ManualWatermarkEstimator, ts: Timestamp) -> None:
    current = estimator.current_watermark()
    if current is None or ts > current:
        estimator.set_watermark(ts)


class ReadFromKafka(beam.PTransform[PBegin, PCollection[Any]]):
    """Unbounded ``PCollection[KafkaRecord]`` from every partition of ``topics``.

    Starts at ``group_id``'s committed offsets (the beginning where there are none); committing is the
    job of a downstream step that knows the write succeeded, never of this source.
    """

    def __init__(
        self,
        bootstrap: str,
        topics: list[str],
        *,
        group_id: str | None = None,
        max_records: int = 500,
        poll_timeout_ms: int = 100,
        idle_lag_s: float = 2.0,
    ) -> None:
        super().__init__()
        self._bootstrap = bootstrap
        self._topics = topics
        self._group_id = group_id
        self._fn = _ReadPartitionFn(bootstrap, max_records, poll_timeout_ms, idle_lag_s)

    def expand(self, pbegin: PBegin) -> PCollection[Any]:
        bootstrap, topics, group_id = self._bootstrap, self._topics, self._group_id
        return (
            pbegin
            | "Impulse" >> beam.Impulse()
            | "DiscoverPartitions" >> beam.FlatMap(lambda _: discover_partitions(bootstrap, topics, group_id))
            | "SpreadPartitions" >> beam.Reshuffle()
            | "ReadPartitions" >> beam.ParDo(self._fn)
        )
