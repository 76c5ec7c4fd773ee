"""StoryCoreFn's ownership of a shard's state, called directly with a fake Beam state cell for the key.

The runner hands the key's state to whichever DoFn instance (or worker) processes the shard; a copy of
the state held by an instance that was not the last to process the shard is stale and must be rebuilt.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.articles import analyse
from pipeline.classify.engine import Classifier
from pipeline.core import StoryCoreFn, shard_of
from pipeline.records import Analysed, DocKind, DocWrite
from pipeline.state import PipelineState
from pipeline.tracking import Origin
from schemas.settings import PipelineSettings
from tests.support.keyed_state import StateCell
from tests.support.pipeline import feed_item

RULES = PipelineSettings().resolved().rules_root
T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
CLASSIFIER = Classifier.from_dir(RULES)


@dataclass
class _Restores:
    shards: list[str] = field(default_factory=list)

    def __call__(self, shard: str) -> PipelineState:
        self.shards.append(shard)
        return PipelineState.configured(RULES)


def _analysed(n: int, title: str) -> Analysed:
    item = feed_item(f"outlet-{n}", n, title, f"{title}. " * 20, T0 + timedelta(minutes=n))
    return Analysed(Origin("items", 0, n, n), item, analyse(CLASSIFIER, item))


def _run(fn: StoryCoreFn, cell: StateCell, analysed: Analysed) -> list[Any]:
    fn.start_bundle()
    return list(fn.process(("0", analysed), owner=cell))


def _fn(restores: _Restores) -> StoryCoreFn:
    fn = StoryCoreFn(restores)
    fn.setup()
    return fn


def _instance(fn: StoryCoreFn) -> StoryCoreFn:
    """Another instance of the same step, as a worker makes one per bundle processor."""
    other: StoryCoreFn = pickle.loads(pickle.dumps(fn))
    other.setup()
    return other


def test_a_shard_is_restored_on_first_sight_and_then_kept_while_this_worker_owns_it() -> None:
    restores, cell = _Restores(), StateCell()
    fn = _fn(restores)
    for n in range(3):
        _run(fn, cell, _analysed(n, f"Harbour storm report number {n}"))
    assert restores.shards == ["0"]


def test_instances_of_the_step_in_one_worker_share_the_shard() -> None:
    """A runner may run a key's bundles on several instances of the step (Prism does)."""
    restores, cell = _Restores(), StateCell()
    first = _fn(restores)
    second = _instance(first)
    _run(first, cell, _analysed(1, "Harbour storm floods the old town"))
    _run(second, cell, _analysed(2, "Cup final goes to extra time"))
    _run(first, cell, _analysed(3, "Central bank holds rates"))
    assert restores.shards == ["0"]
    assert first._shards._kept["0"] is second._shards._kept["0"], (
        "one state for the shard, not one per instance"
    )


def test_a_shard_another_worker_processed_since_is_rebuilt() -> None:
    restores, cell = _Restores(), StateCell()
    fn = _fn(restores)
    _run(fn, cell, _analysed(1, "Harbour storm floods the old town"))
    cell.write("a bundle of another worker")
    _run(fn, cell, _analysed(2, "Cup final goes to extra time"))
    assert restores.shards == ["0", "0"], "the held copy missed the other worker's articles"


def test_a_replayed_item_keeps_its_first_story_in_the_owning_instance() -> None:
    fn, cell = _fn(_Restores()), StateCell()
    article = _analysed(1, "Harbour storm floods the old town")
    [first] = [w for w in _run(fn, cell, article) if isinstance(w, DocWrite) and w.kind is DocKind.article]
    [again] = [w for w in _run(fn, cell, article) if isinstance(w, DocWrite) and w.kind is DocKind.article]
    assert again.source["story_id"] == first.source["story_id"]
    assert again.create and not first.create


def test_one_shard_unless_more_are_declared_and_then_by_language() -> None:
    assert {shard_of(lang, 1) for lang in ("en", "de", "ru", "")} == {"0"}
    assert shard_of("en", 4) == shard_of("en", 4)
    assert len({shard_of(lang, 4) for lang in ("en", "de", "ru", "fr", "es", "ar", "zh")}) > 1


def test_a_shard_built_in_the_worker_settles_the_collector(monkeypatch: Any) -> None:
    settled: list[None] = []
    monkeypatch.setattr("pipeline.heap.settle", lambda: settled.append(None))
    fn, cell = _fn(_Restores()), StateCell()
    _run(fn, cell, _analysed(1, "Harbour bridge reopens after storm"))
    _run(fn, cell, _analysed(2, "Council approves new school budget"))
    assert len(settled) == 1  # once, when the shard's state was built
