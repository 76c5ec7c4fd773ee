"""Story identity on the development day: quality, CPU per item and state per story, side by side.

    python -m bench.stories [--items …/items.jsonl --gold …/gold.jsonl]

Two configurations in one run over the same items (classified once, outside the timing): the shipped
event clustering (ADR 0006), and the same state with event joins and merges switched off (the text-only
clustering that came before; the features are still computed, so the CPU ratio is a lower bound).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from connectors.corpus import feed_item, read_corpus
from pipeline.articles import analyse
from pipeline.classify import Classifier
from pipeline.events import EventParams
from pipeline.state import PipelineState
from pipeline.storyeval import Replay, replay, score

REPO = Path(__file__).resolve().parents[1]
DEV_DAY = REPO.parent / "shared" / "corpora" / "news-day-2023-09-13"


def run(params: EventParams, corpus: list, analyses: dict) -> tuple[Replay, float, PipelineState]:
    state = PipelineState.configured(REPO / "deploy", event_params=params)
    started = time.process_time()
    result = replay(state, lambda item: analyses[item.item_id], corpus)
    return result, (time.process_time() - started) * 1000 / len(corpus), state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=Path, default=DEV_DAY / "items.jsonl")
    parser.add_argument("--gold", type=Path, default=DEV_DAY / "gold.jsonl")
    args = parser.parse_args()
    corpus = [(feed_item(e), g) for e, g in read_corpus(args.items, args.gold)]
    classifier = Classifier.from_dir(REPO / "deploy")
    analyses = {item.item_id: analyse(classifier, item) for item, _ in corpus}
    shipped = EventParams()
    text_only = replace(shipped, threshold=2.0, merge_threshold=2.0, defining_terms=0)
    cpu = {}
    for name, params in (("events", shipped), ("text only", text_only)):
        result, ms, state = run(params, corpus, analyses)
        cpu[name] = ms
        r = score(result)
        n = len(state.book)
        parts = {
            "centroid": state.events.state_bytes() / n,
            "text": state.stories.state_bytes() / n,
            "facts": state.book.state_bytes() / n,
            "ledger": state.ledger.state_bytes() / n,
        }
        print(
            f"{name:9}  B3 F1 {r.bcubed.f1:.3f} (P {r.bcubed.precision:.3f} R {r.bcubed.recall:.3f})"
            f"  own-words pair R {r.pairs.own_words_recall:.3f} at pair P {r.pairs.precision:.3f}"
            f"  alerts/real {r.alerts.per_real:.2f} missed {r.alerts.missed:.0%}"
            f"  | {ms:.3f} ms/item CPU (assign+decide)"
            f"  | state {sum(parts.values()):.0f} B/story ("
            + ", ".join(f"{k} {v:.0f}" for k, v in parts.items())
            + f"); shared document frequencies {state.events.frequencies.state_bytes() / 1024:.0f} KB"
        )
    print(f"CPU ratio events / text only: {cpu['events'] / cpu['text only']:.2f}")


if __name__ == "__main__":
    main()
