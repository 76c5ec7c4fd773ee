"""CPU per item per stage of the job, without a runner: the cost model of ADR 0005.

Runs the job's own step functions in one process over bench.pipeline's ~2 KB items and reports CPU
microseconds per item for each stage, split into the stateless part (parallel on any worker) and the
keyed core (one shard = one worker), plus the cost of carrying an item across the shuffle in front
of the core (pickling, as Beam's default coder does).

    .venv/bin/python -m bench.stages [--items 5000]
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections.abc import Callable
from typing import Any

from bench.pipeline import corpus
from pipeline import heap
from pipeline.articles import analyse, article_doc
from pipeline.classify.engine import Classifier
from pipeline.records import Analysed
from pipeline.state import PipelineState
from pipeline.tracking import Origin
from schemas.item import FeedItem
from schemas.settings import PipelineSettings


def _timed(items: list[Any], step: Callable[[Any], Any]) -> tuple[float, list[Any]]:
    started = time.process_time()
    out = [step(x) for x in items]
    return (time.process_time() - started) / len(items) * 1e6, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    args = parser.parse_args()
    rules = PipelineSettings().resolved().rules_root
    items = corpus(args.items)
    raw = [i.model_dump_json().encode() for i in items]
    classifier = Classifier.from_dir(rules)
    state = PipelineState.configured(rules)
    heap.settle()  # as the job's core does once a shard's state is built
    rows: list[tuple[str, float]] = []

    us, decoded = _timed(raw, FeedItem.model_validate_json)
    rows.append(("decode (stateless)", us))
    us, analyses = _timed(decoded, lambda i: analyse(classifier, i))
    rows.append(("classify (stateless)", us))
    carried = [
        Analysed(Origin("t", 0, n, n), i, a) for n, (i, a) in enumerate(zip(decoded, analyses, strict=True))
    ]
    us, _ = _timed(carried, lambda a: pickle.loads(pickle.dumps(a)))
    rows.append(("shuffle encode+decode (pickle)", us))
    us, _ = _timed(decoded, state.deduplicate)
    rows.append(("core: dedup", us))
    us, placed = _timed(carried, lambda a: state.assign(a.item, a.analysis))
    rows.append(("core: story assignment", us))
    us, _ = _timed(placed, state.decide)
    rows.append(("core: alert decision", us))
    pairs = list(zip(carried, placed, strict=True))
    us, _ = _timed(
        pairs,
        lambda ap: article_doc(
            ap[0].item, ap[0].analysis, ap[1].story.story_id, syndicated=ap[1].syndicated, merged=ap[1].merged
        ).to_es(),
    )
    rows.append(("article document (in the core)", us))

    print(f"{len(items)} items of ~{sum(map(len, raw)) // len(raw)} bytes, {len(state.book)} stories")
    for name, value in rows:
        print(f"{name:34s} {value:8.0f} µs/item")
    stateless = rows[0][1] + rows[1][1]
    core = sum(v for n, v in rows if n.startswith(("core", "article")))
    print(f"{'stateless total':34s} {stateless:8.0f} µs/item  (parallel)")
    print(f"{'keyed core total':34s} {core:8.0f} µs/item  (one worker per shard)")
    print(f"one shard's ceiling: {1e6 / core:,.0f} items/s of core CPU")


if __name__ == "__main__":
    main()
