"""The streaming job's steps as small named PTransforms; the logic they call is importable without Beam.

Every element carries its Kafka `Origin`, and every write a `Receipt`, so `CommitOffsets` advances the
consumer group only past items whose writes all succeeded (pipeline/tracking.py). Every fallible step
has a main output and a ``dead`` output of `DeadLetter`s, each settling its item's receipt.

The stateful steps (dedup, clustering, alert decisions) share one `PipelineState` per job run and
worker process (docs/adr/0003-pipeline-state.md): a registry keyed by run id hands every DoFn
instance the same object, built on first use by the job's `StateFactory`.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.metrics.metric import Metrics
from apache_beam.pvalue import PCollection, TaggedOutput
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from pydantic import ValidationError

from connectors.es_sink import IndexRequest
from connectors.kafka_source import KafkaRecord, discover_partitions
from pipeline.articles import Analysis, analyse, article_doc
from pipeline.classify.engine import Classifier
from pipeline.state import PipelineState, Placed
from pipeline.tracking import OffsetTracker, Origin, Receipt
from schemas.alert import AlertDoc
from schemas.deadletter import DeadLetter, describe_validation
from schemas.item import FeedItem

log = logging.getLogger(__name__)

DEAD = "dead"
DONE = "done"
ALERTS = "alerts"

StateFactory = Callable[[], PipelineState]

_registry_lock = threading.Lock()
_states: weakref.WeakValueDictionary[str, PipelineState] = weakref.WeakValueDictionary()


def shared_state(run_id: str, factory: StateFactory) -> PipelineState:
    """This process's state for job run `run_id`, built once; alive while any DoFn instance holds it."""
    with _registry_lock:
        state = _states.get(run_id)
        if state is None:
            state = factory()
            _states[run_id] = state
        return state


@dataclass(frozen=True, slots=True)
class Tracked:
    origin: Origin
    item: FeedItem


@dataclass(frozen=True, slots=True)
class Analysed:
    origin: Origin
    item: FeedItem
    analysis: Analysis


@dataclass(frozen=True, slots=True)
class Clustered:
    origin: Origin
    item: FeedItem
    analysis: Analysis
    placed: Placed


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """An alert on its way to ``watchfloor.alerts``; keyed by story so a story's revisions stay in order."""

    doc: AlertDoc
    receipt: Receipt


def dead_letter(
    stage: str, exc: Exception | str, origin: Origin, payload: bytes | str | None
) -> TaggedOutput:
    """The item's only remaining part: once the dead letter is written, its offset may be committed."""
    return TaggedOutput(
        DEAD, DeadLetter.of(stage, str(exc), str(origin), payload, Receipt(origin, "dead", 1))
    )


class DecodeItemFn(beam.DoFn):
    def __init__(self) -> None:
        self._decoded = Metrics.counter("watchfloor", "items_decoded_total")

    def process(self, record: KafkaRecord) -> Iterator[Any]:
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


class _StatefulFn(beam.DoFn):
    def __init__(self, run_id: str, factory: StateFactory) -> None:
        self._run_id = run_id
        self._factory = factory
        self._state: PipelineState | None = None

    def setup(self) -> None:
        self._state = shared_state(self._run_id, self._factory)

    def state(self) -> PipelineState:
        # A method, not a property: Beam inspects every DoFn attribute at construction time.
        assert self._state is not None, "setup() not called"
        return self._state


class DeduplicateFn(_StatefulFn):
    def __init__(self, run_id: str, factory: StateFactory) -> None:
        super().__init__(run_id, factory)
        self._duplicates = Metrics.counter("watchfloor", "duplicates_dropped_total")
        self._replays = Metrics.counter("watchfloor", "items_replayed_total")

    def process(self, tracked: Tracked) -> Iterator[Any]:
        kind = self.state().deduplicate(tracked.item)
        if kind in {"url", "hash"}:
            self._duplicates.inc()
            yield TaggedOutput(DONE, Receipt(tracked.origin, "duplicate", 1))
            return
        if kind == "id":
            self._replays.inc()
        yield tracked


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


class ClusterFn(_StatefulFn):
    def __init__(self, run_id: str, factory: StateFactory) -> None:
        super().__init__(run_id, factory)
        self._new_stories = Metrics.counter("watchfloor", "stories_opened_total")
        self._linked = Metrics.counter("watchfloor", "articles_linked_total")
        self._merged = Metrics.counter("watchfloor", "stories_merged_total")

    def process(self, analysed: Analysed) -> Iterator[Clustered]:
        placed = self.state().assign(analysed.item, analysed.analysis)
        if placed.story.articles == 1 and not placed.replay:
            self._new_stories.inc()
        if placed.linked:
            self._linked.inc()
        if placed.merged:
            self._merged.inc(len(placed.merged))
        yield Clustered(analysed.origin, analysed.item, analysed.analysis, placed)


class DecideFn(_StatefulFn):
    """Fans an article out into its writes: the article, and each alert to Elasticsearch and Kafka."""

    def __init__(self, run_id: str, factory: StateFactory, articles_index: str, alerts_index: str) -> None:
        super().__init__(run_id, factory)
        self._articles_index = articles_index
        self._alerts_index = alerts_index
        self._alerts = Metrics.counter("watchfloor", "alerts_issued_total")

    def process(self, c: Clustered) -> Iterator[Any]:
        try:
            placed = c.placed
            doc = article_doc(
                c.item, c.analysis, placed.story.story_id, syndicated=placed.syndicated, merged=placed.merged
            )
            alerts = self.state().decide(c.placed)
        except Exception as exc:
            log.exception("alert decision failed for %s", c.origin)
            yield dead_letter("DecideAlerts", repr(exc), c.origin, c.item.model_dump_json())
            return
        parts = 1 + 2 * len(alerts)
        receipt = Receipt(c.origin, "article", parts)
        yield IndexRequest(self._articles_index, doc.article_id, doc.to_es(), receipt, create=placed.replay)
        for alert in alerts:
            aid = alert.watchfloor.alert_id
            self._alerts.inc()
            yield IndexRequest(self._alerts_index, aid, alert.to_es(), Receipt(c.origin, f"es:{aid}", parts))
            yield TaggedOutput(ALERTS, AlertMessage(alert, Receipt(c.origin, f"kafka:{aid}", parts)))


def alert_record(message: AlertMessage) -> tuple[bytes, bytes]:
    doc = message.doc
    return doc.watchfloor.story_id.encode(), json.dumps(doc.to_es(), separators=(",", ":")).encode()


_trackers: dict[str, OffsetTracker] = {}


class CommitOffsetsFn(beam.DoFn):
    """Commits the consumer group's offsets once every write of the items before them succeeded."""

    def __init__(self, run_id: str, bootstrap: str, topics: list[str], group_id: str) -> None:
        self._run_id = run_id
        self._bootstrap = bootstrap
        self._topics = topics
        self._group_id = group_id
        self._consumer: KafkaConsumer | None = None
        self._uncommitted: dict[tuple[str, int], int] = {}
        self._torn_down = False

    def setup(self) -> None:
        self._torn_down = False
        with _registry_lock:
            if self._run_id not in _trackers:
                # The same starting points the source reads from: committed offsets, else the beginning.
                starts = discover_partitions(self._bootstrap, self._topics, self._group_id)
                _trackers[self._run_id] = OffsetTracker({(s.topic, s.partition): s.offset for s in starts})
        self._consumer = KafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=self._group_id, enable_auto_commit=False
        )

    def teardown(self) -> None:
        """May run mid-bundle, when a stopping runner shuts the worker down: the commit in flight then
        fails, which is no news (the next run starts from the last commit)."""
        self._torn_down = True
        if self._consumer is not None:
            self._consumer.close(autocommit=False)

    def process(self, receipt: Receipt) -> None:
        with _registry_lock:
            _trackers[self._run_id].complete(receipt)

    def finish_bundle(self) -> None:
        with _registry_lock:
            self._uncommitted.update(_trackers[self._run_id].advance())
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
    def __init__(self, run_id: str, bootstrap: str, topics: list[str], group_id: str) -> None:
        super().__init__()
        self._fn = CommitOffsetsFn(run_id, bootstrap, topics, group_id)

    def expand(self, receipts: PCollection[Receipt]) -> PCollection[Any]:
        return receipts | "Commit" >> beam.ParDo(self._fn)
