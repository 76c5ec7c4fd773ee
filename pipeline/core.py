"""The stateful core: dedup → story → alert decision, one keyed step over a declared shard key.

Items are keyed by shard (`shard_of`; one shard unless ``WATCHFLOOR_PIPELINE_SHARDS`` says otherwise)
into `StoryCoreFn`, a Beam stateful DoFn, so the runner sends every item of a shard to one worker at
any parallelism: copies read from different partitions by different workers meet in one state
(docs/adr/0005-keyed-pipeline-state.md). The shard's `PipelineState` belongs to this step: built on
first sight by the injected `ShardRestore` (the job rebuilds it from what it wrote, ADR 0003) and held
as pipeline/owned.py describes. A held state rewound by a checkpoint restore is ahead of its input,
which then replays idempotently (ADR 0003).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics.metric import Metrics
from apache_beam.pvalue import TaggedOutput

from pipeline import heap
from pipeline.articles import article_doc
from pipeline.owned import OWNER, Owned
from pipeline.records import ALERTS, DONE, AlertMessage, Analysed, DocKind, DocWrite, dead_letter
from pipeline.state import PipelineState
from pipeline.textnorm import stable_hash
from pipeline.tracking import Receipt
from schemas.article import ArticleCopy

log = logging.getLogger(__name__)

ShardRestore = Callable[[str], PipelineState]
"""A shard's working memory, rebuilt from what the job wrote before (the composition root injects it)."""


def shard_of(language: str, shards: int) -> str:
    """The state shard of an article in `language`: "0" for one shard, else by a stable hash of it."""
    return "0" if shards == 1 else str(stable_hash(language) % shards)


def copies_write(article_id: str, copies: tuple[ArticleCopy, ...], receipt: Receipt) -> DocWrite:
    """The article's whole list of copies, merged into its document by copy: the same list whatever
    replays, and whatever order two copies' writes reach Elasticsearch in."""
    listed = [c.model_dump(mode="json", exclude_none=True) for c in copies]
    source = {"watchfloor": {"copies": listed}}
    return DocWrite(DocKind.article, article_id, source, receipt, partial=True, union_key="item_id")


def keyed(analysed: Analysed, shards: int) -> tuple[str, Analysed]:
    return shard_of(analysed.item.language, shards), analysed


class StoryCoreFn(beam.DoFn):
    """``(shard, Analysed)`` → article writes; ``alerts``: alert messages; ``done``: receipts of dropped
    duplicates; ``dead``: dead letters."""

    def __init__(self, restore: ShardRestore) -> None:
        self._restore = restore
        self._shards: Owned[PipelineState] = Owned()
        self._duplicates = Metrics.counter("watchfloor", "duplicates_dropped_total")
        self._replays = Metrics.counter("watchfloor", "items_replayed_total")
        self._restores = Metrics.counter("watchfloor", "shard_restores_total")
        self._new_stories = Metrics.counter("watchfloor", "stories_opened_total")
        self._linked = Metrics.counter("watchfloor", "articles_linked_total")
        self._merged = Metrics.counter("watchfloor", "stories_merged_total")
        self._alerts = Metrics.counter("watchfloor", "alerts_issued_total")

    def start_bundle(self) -> None:
        self._shards.start_bundle()

    def process(
        self, element: tuple[str, Analysed], owner: Any = beam.DoFn.StateParam(OWNER)
    ) -> Iterator[Any]:
        shard, a = element
        held, built = self._shards.get(shard, owner, self._restore)
        if built:
            log.info("state shard %s restored in this worker", shard)
            self._restores.inc()
            heap.settle()
        with held.lock:
            out = list(self._one(held.value, a))
        yield from out

    def _one(self, state: PipelineState, a: Analysed) -> Iterator[Any]:
        kind = state.deduplicate(a.item)
        if kind in {"url", "hash"}:
            self._duplicates.inc()
            copied = state.copy(a.item)
            if copied is None:
                yield TaggedOutput(DONE, Receipt(a.origin, "duplicate", 1))
            else:
                yield copies_write(*copied, Receipt(a.origin, "copy", 1))
            return
        if kind == "id":
            self._replays.inc()
        placed = state.assign(a.item, a.analysis)
        if placed.story.articles == 1 and not placed.replay:
            self._new_stories.inc()
        if placed.linked:
            self._linked.inc()
        if placed.merged:
            self._merged.inc(len(placed.merged))
        try:
            doc = article_doc(
                a.item, a.analysis, placed.story.story_id, syndicated=placed.syndicated, merged=placed.merged
            )
            alerts = state.decide(placed)
        except Exception as exc:
            log.exception("alert decision failed for %s", a.origin)
            yield dead_letter("DecideAlerts", repr(exc), a.origin, a.item.model_dump_json())
            return
        parts = 1 + 2 * len(alerts)
        receipt = Receipt(a.origin, "article", parts)
        yield DocWrite(DocKind.article, doc.article_id, doc.to_es(), receipt, create=placed.replay)
        for alert in alerts:
            aid = alert.watchfloor.alert_id
            self._alerts.inc()
            yield DocWrite(DocKind.alert, aid, alert.to_es(), Receipt(a.origin, f"es:{aid}", parts))
            yield TaggedOutput(ALERTS, AlertMessage(alert, Receipt(a.origin, f"kafka:{aid}", parts)))
