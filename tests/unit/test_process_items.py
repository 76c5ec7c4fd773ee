"""ProcessItems on Beam's test runner, the way Beam's own examples test theirs (leader_board_test.py):
wire copies of one story read from different partitions, in either order, make one story with one alert
per topic; a message that is no item is a dead letter; an exact duplicate settles with a receipt."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from connectors.demo.corpus import Corpus
from connectors.kafka_source import KafkaRecord
from pipeline.process import ProcessItems
from pipeline.records import DocKind, DocWrite
from pipeline.state import PipelineState
from schemas.deadletter import DeadLetter
from schemas.feed import SourceTier
from schemas.item import FeedItem
from schemas.settings import PipelineSettings
from tests.support.canonical import CANONICAL
from tests.support.pipeline import feed_item

RULES = PipelineSettings().resolved().rules_root
TOPIC = "items"
T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class _Fresh:
    """A shard's state with nothing to restore."""

    rules_root: Path

    def __call__(self, shard: str) -> PipelineState:
        return PipelineState.configured(self.rules_root)


def _items() -> tuple[list[FeedItem], list[FeedItem]]:
    """The canonical story from its three outlets (the wire first in time), and unrelated news."""
    corpus = Corpus.load()
    canon = [a for a in corpus.articles if a.story == CANONICAL]
    wire = [a for a in canon if a.outlet == "wire-global"]
    copies = wire + [a for a in canon if a.outlet != "wire-global"]
    story = [
        feed_item(
            a.outlet,
            1,
            a.title,
            a.text,
            T0 + timedelta(minutes=n),
            SourceTier.WIRE if n == 0 else SourceTier.NATIONAL,
        )
        for n, a in enumerate(copies)
    ]
    noise = [
        feed_item(a.outlet, 2, a.title, a.text, T0 + timedelta(minutes=10 + n))
        for n, a in enumerate(x for x in corpus.articles if x.story in {"harbour-storm", "cup-final"})
    ]
    return story, noise


def _record(item: FeedItem | None, partition: int, offset: int, value: bytes | None = None) -> KafkaRecord:
    key = item.item_id.encode() if item else b"junk"
    return KafkaRecord(
        TOPIC,
        partition,
        offset,
        key,
        value or (item.model_dump_json().encode() if item else None),
        0,
        (),
        offset,
    )


Outputs = tuple[list[DocWrite], list[Any], list[DeadLetter], list[Any]]


def _by_output(actual: list[tuple[str, Any]]) -> Outputs:
    held: dict[str, list[Any]] = {name: [] for name in ("writes", "alerts", "dead", "done")}
    for name, element in actual:
        held[name].append(element)
    return held["writes"], held["alerts"], held["dead"], held["done"]


def _run(records: list[KafkaRecord], check: Callable[[Outputs], None]) -> None:
    """Runs ProcessItems on the test runner; `check` gets every output's elements (a Beam matcher)."""
    with TestPipeline() as p:
        processed = p | beam.Create(records) | ProcessItems(RULES, _Fresh(RULES))
        tagged = [
            pcoll | f"Tag{name}" >> beam.Map(lambda e, n=name: (n, e))
            for name, pcoll in processed._asdict().items()
        ]
        assert_that(tagged | beam.Flatten(), lambda actual: check(_by_output(actual)))


@pytest.mark.parametrize("order", ["wire first", "copies first"])
def test_copies_on_different_partitions_make_one_story_and_one_alert_per_topic(order: str) -> None:
    story, noise = _items()
    arriving = story if order == "wire first" else story[::-1]
    records = [_record(item, partition=n % 3, offset=n) for n, item in enumerate([*arriving, *noise])]
    records.append(_record(None, partition=1, offset=99, value=b"{not a feed item"))
    _run(records, lambda out: _one_story(out, story, noise))


def _one_story(out: Outputs, story: list[FeedItem], noise: list[FeedItem]) -> None:
    writes, alerts, dead, done = out
    articles = {w.doc_id: w.source for w in writes if w.kind is DocKind.article}
    assert set(articles) == {i.item_id for i in [*story, *noise]}  # every item once
    story_ids = {articles[i.item_id]["story_id"] for i in story}
    assert len(story_ids) == 1, "three outlets carrying one wire story are one story"
    (story_id,) = story_ids
    assert story_id not in {articles[i.item_id]["story_id"] for i in noise}

    alert_docs = [w.source for w in writes if w.kind is DocKind.alert]
    assert alert_docs and {a["watchfloor"]["story_id"] for a in alert_docs} == {story_id}
    keys = Counter((a["watchfloor"]["topic"], a["watchfloor"]["revision"]) for a in alert_docs)
    assert all(n == 1 for n in keys.values()), keys
    assert Counter(t for t, r in keys if r == 1) == Counter({t for t, _ in keys}), "one first alert per topic"
    assert {"arms_transfer", "leader_visit"} <= {t for t, _ in keys}
    assert sorted(m.doc.watchfloor.alert_id for m in alerts) == sorted(
        a["watchfloor"]["alert_id"] for a in alert_docs
    )

    assert [(d.stage, d.origin) for d in dead] == [("DecodeItems", f"{TOPIC}/1@99")]
    assert done == []


def test_an_exact_duplicate_settles_with_a_receipt_and_writes_nothing() -> None:
    story, _ = _items()
    wire = story[0]
    again = wire.model_copy(update={"item_id": wire.item_id + "-again"})  # same URL and text, other id
    _run([_record(wire, 0, 0), _record(again, 2, 5)], lambda out: _dropped(out, wire))


def _dropped(out: Outputs, wire: FeedItem) -> None:
    writes, _, dead, done = out
    assert dead == []
    assert [w.doc_id for w in writes if w.kind is DocKind.article] == [wire.item_id]
    assert [(r.origin.partition, r.origin.offset, r.part) for r in done] == [(2, 5, "duplicate")]


def test_the_pipeline_unit_runs_in_a_test_pipeline_with_equal_to() -> None:
    """A bad item only: nothing written, one dead letter (Beam's matcher, as in its examples)."""
    with TestPipeline() as p:
        processed = p | beam.Create([_record(None, 0, 3, value=b"[]")]) | ProcessItems(RULES, _Fresh(RULES))
        assert_that(processed.writes, equal_to([]), label="NoWrites")
        assert_that(
            processed.dead | beam.Map(lambda d: (d.stage, d.origin)),
            equal_to([("DecodeItems", f"{TOPIC}/0@3")]),
            label="Dead",
        )
