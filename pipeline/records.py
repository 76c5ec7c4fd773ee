"""What flows between the job's steps and out of `ProcessItems`: domain records, not client requests.

The pipeline's steps know items, articles and alerts, never Kafka or Elasticsearch clients: a message
comes in as anything shaped like `ItemMessage` (the Kafka source's record is one), and what must be
stored leaves as a `DocWrite` or an `AlertMessage`; the composition root (pipeline/job.py) turns those
into index requests and Kafka records. Every element carries its `Origin`, and every write a `Receipt`,
so the Kafka adapter commits an offset only once everything its item became is written (ADR 0003).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from apache_beam.pvalue import TaggedOutput

from pipeline.articles import Analysis
from pipeline.tracking import Origin, Receipt
from schemas.alert import AlertDoc
from schemas.deadletter import DeadLetter
from schemas.item import FeedItem

DEAD = "dead"
DONE = "done"
ALERTS = "alerts"


class ItemMessage(Protocol):
    """A message of the items topic where it was read: its position, key and serialised `FeedItem`."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def first(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class Tracked:
    origin: Origin
    item: FeedItem


@dataclass(frozen=True, slots=True)
class Analysed:
    origin: Origin
    item: FeedItem
    analysis: Analysis


class DocKind(StrEnum):
    article = "article"
    alert = "alert"


@dataclass(frozen=True, slots=True)
class DocWrite:
    """A document to store under `doc_id`; the edge picks the index for its `kind`."""

    kind: DocKind
    doc_id: str
    source: dict[str, Any]
    receipt: Receipt
    create: bool = False
    """Write only if no document has this id: a replayed article keeps its first placement."""
    partial: bool = False
    """Merge `source` into the stored document (its lists replaced whole) instead of replacing it."""
    union_key: str | None = None
    """For a partial write: its lists are merged with the stored ones by this key of their entries, so
    that writes of one document arriving in any order leave the same lists."""


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """An alert on its way to the alerts topic; keyed by story so a story's revisions stay in order."""

    doc: AlertDoc
    receipt: Receipt


def alert_record(message: AlertMessage) -> tuple[bytes, bytes]:
    """The alert as a (key, value) record: the story id, and the document Elasticsearch stores."""
    doc = message.doc
    return doc.watchfloor.story_id.encode(), json.dumps(doc.to_es(), separators=(",", ":")).encode()


def dead_letter(
    stage: str, exc: Exception | str, origin: Origin, payload: bytes | str | None
) -> TaggedOutput:
    """The item's only remaining part: once the dead letter is written, its offset may be committed."""
    return TaggedOutput(
        DEAD, DeadLetter.of(stage, str(exc), str(origin), payload, Receipt(origin, "dead", 1))
    )
