"""The job's stateless steps: decode a message into an item, classify it. Both parallelise freely.

Every fallible step has a main output and a ``dead`` output of `DeadLetter`s, each settling its item's
receipt. The stateful steps (dedup, stories, alert decisions) are one keyed step, pipeline/core.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.metrics.metric import Metrics
from pydantic import ValidationError

from pipeline.articles import analyse
from pipeline.classify.engine import Classifier
from pipeline.records import Analysed, ItemMessage, Tracked, dead_letter
from pipeline.tracking import Origin
from schemas.deadletter import describe_validation
from schemas.item import FeedItem

log = logging.getLogger(__name__)


class DecodeItemFn(beam.DoFn):
    def __init__(self) -> None:
        self._decoded = Metrics.counter("watchfloor", "items_decoded_total")

    def process(self, record: ItemMessage) -> Iterator[Any]:
        origin = Origin(record.topic, record.partition, record.offset, record.first)
        try:
            item = FeedItem.model_validate_json(record.value or b"")
        except ValidationError as exc:
            reason = f"not a valid FeedItem: {describe_validation(exc, limit=5)}"
            yield dead_letter("DecodeItems", reason, origin, record.value)
            return
        if record.key is not None and record.key.decode("utf-8", "replace") != item.item_id:
            yield dead_letter("DecodeItems", "message key is not the item_id", origin, record.value)
            return
        self._decoded.inc()
        yield Tracked(origin, item)


class ClassifyFn(beam.DoFn):
    def __init__(self, rules_root: Path) -> None:
        self._rules_root = rules_root
        self._classifier: Classifier | None = None

    def setup(self) -> None:
        self._classifier = Classifier.from_dir(self._rules_root)

    def process(self, tracked: Tracked) -> Iterator[Any]:
        assert self._classifier is not None
        try:
            analysis = analyse(self._classifier, tracked.item)
        except Exception as exc:  # a bug on one odd article must not stop the stream
            log.exception("classify failed for %s", tracked.origin)
            yield dead_letter("ClassifyTopics", repr(exc), tracked.origin, tracked.item.model_dump_json())
            return
        yield Analysed(tracked.origin, tracked.item, analysis)
