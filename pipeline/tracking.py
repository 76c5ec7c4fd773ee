"""Which Kafka offsets are safe to commit: those whose every downstream write has succeeded.

An item fans out into several writes (its article, each alert to Elasticsearch and to Kafka) or into
one dead letter, and writes finish out of order. Each write carries a `Receipt` naming its item's
origin, its own part and how many parts the item has; the tracker commits a partition up to the
first offset not yet fully written. Every record covers the offsets since the previous record its
reader claimed (``first`` … ``offset``), so gaps in a partition (transaction markers, compaction)
never hold the commit back. After a crash the job resumes at the committed offset and replays what
followed; writes are idempotent by id, so the replay doubles nothing (ADR 0003).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TopicPartitionKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an item came from: ``offset`` in ``topic``/``partition``, covering offsets from ``first``."""

    topic: str
    partition: int
    offset: int
    first: int

    def __str__(self) -> str:
        return f"{self.topic}/{self.partition}@{self.offset}"

    @property
    def tp(self) -> TopicPartitionKey:
        return (self.topic, self.partition)


@dataclass(frozen=True, slots=True)
class Receipt:
    """One finished write (or dead letter) of an item; the item is done when all `parts` have one."""

    origin: Origin
    part: str
    parts: int


@dataclass(slots=True)
class _Partition:
    position: int
    done: dict[int, int] = field(default_factory=dict)  # offset -> first offset it covers
    parts: dict[int, set[str]] = field(default_factory=dict)


class OffsetTracker:
    """Commit positions per partition from receipts; duplicate receipts (retried bundles) count once."""

    def __init__(self, starts: dict[TopicPartitionKey, int]) -> None:
        self._partitions = {tp: _Partition(start) for tp, start in starts.items()}

    def complete(self, receipt: Receipt) -> None:
        origin = receipt.origin
        partition = self._partitions.get(origin.tp)
        if partition is None or origin.offset < partition.position:
            return  # committed already (a replay), or a partition this job does not read
        # An unknown range (first < 0) accounts for the record's own offset only, never for records before it.
        start = max(origin.first if origin.first >= 0 else origin.offset, partition.position)
        if partition.done.get(start) == origin.offset:
            return  # finished already and waiting for advance(): a retried bundle's duplicate
        parts = partition.parts.setdefault(origin.offset, set())
        parts.add(receipt.part)
        if len(parts) >= receipt.parts:
            del partition.parts[origin.offset]
            partition.done[start] = origin.offset

    def advance(self) -> dict[TopicPartitionKey, int]:
        """Move each partition past its contiguous done records; returns the positions that moved."""
        moved = {}
        for tp, partition in self._partitions.items():
            start = partition.position
            while partition.position in partition.done:
                partition.position = partition.done.pop(partition.position) + 1
            if partition.position != start:
                moved[tp] = partition.position
        return moved

    def pending(self) -> int:
        """Records with some but not all parts written (for metrics and tests)."""
        return sum(len(p.parts) for p in self._partitions.values())
