"""Commit the consumer group's offsets from write receipts: a partition only up to its first record not
fully written (ADR 0003; which offsets are safe is pipeline/tracking.py's `OffsetTracker`).

Receipts are keyed by partition into a Beam stateful DoFn, so every receipt of a partition reaches one
tracker at any parallelism, however the writes were spread. The tracker is held by this step per
partition (pipeline/owned.py; not in Beam state, whose read-modify-write Prism's concurrent bundles of
one key race on, losing receipts). A partition's first receipt in a worker starts its tracker at the
group's committed offset (else the beginning), where the source started reading.
"""

from __future__ import annotations

import logging
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import PCollection
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from pipeline.owned import OWNER, Owned
from pipeline.tracking import OffsetTracker, Receipt, TopicPartitionKey

log = logging.getLogger(__name__)


def by_partition(receipt: Receipt) -> tuple[str, Receipt]:
    return str(receipt.origin.tp), receipt


class CommitOffsetsFn(beam.DoFn):
    """``(partition, Receipt)`` → nothing; commits in ``finish_bundle`` what the bundle's receipts freed."""

    def __init__(self, bootstrap: str, group_id: str) -> None:
        self._bootstrap = bootstrap
        self._group_id = group_id
        self._consumer: KafkaConsumer | None = None
        self._uncommitted: dict[TopicPartitionKey, int] = {}
        self._torn_down = False
        self._trackers: Owned[OffsetTracker] = Owned()

    def setup(self) -> None:
        self._torn_down = False
        self._consumer = KafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=self._group_id, enable_auto_commit=False
        )

    def teardown(self) -> None:
        """May run mid-bundle, when a stopping runner shuts the worker down: the commit in flight then
        fails, which is no news (the next run starts from the last commit)."""
        self._torn_down = True
        if self._consumer is not None:
            self._consumer.close(autocommit=False)

    def _start(self, tp: TopicPartitionKey) -> int:
        """Where the source began reading `tp`: the group's committed offset, else the beginning."""
        assert self._consumer is not None
        partition = TopicPartition(*tp)
        committed = self._consumer.committed(partition)
        if committed is not None:
            return int(committed)
        return int(self._consumer.beginning_offsets([partition])[partition])

    def start_bundle(self) -> None:
        self._trackers.start_bundle()

    def _tracker(self, receipt: Receipt) -> OffsetTracker:
        return OffsetTracker({receipt.origin.tp: self._start(receipt.origin.tp)})

    def process(self, element: tuple[str, Receipt], owner: Any = beam.DoFn.StateParam(OWNER)) -> None:
        key, receipt = element
        held, _ = self._trackers.get(key, owner, lambda _: self._tracker(receipt))
        with held.lock:
            held.value.complete(receipt)
            moved = held.value.advance()
        self._uncommitted.update(moved)

    def finish_bundle(self) -> None:
        if not self._uncommitted or self._consumer is None:
            return
        offsets = {
            TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in self._uncommitted.items()
        }
        try:
            self._consumer.commit(offsets)
            self._uncommitted = {}
        except Exception:  # committed with the next bundle; a replay from an older offset is harmless
            if not self._torn_down:
                log.warning("offset commit failed; will retry", exc_info=True)


class CommitOffsets(beam.PTransform[PCollection[Receipt], PCollection[Any]]):
    def __init__(self, bootstrap: str, group_id: str) -> None:
        super().__init__()
        self._fn = CommitOffsetsFn(bootstrap, group_id)

    def expand(self, receipts: PCollection[Receipt]) -> PCollection[Any]:
        return (
            receipts
            | "KeyByPartition" >> beam.Map(by_partition).with_output_types(beam.typehints.KV[str, Any])
            | "Commit" >> beam.ParDo(self._fn)
        )
