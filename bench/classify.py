"""Classification throughput on one core: ~2-KB synthetic English articles through `Classifier.classify`.

Articles per CPU-second of the process (`time.process_time`) is the per-core figure to compare: unlike
wall-clock throughput it barely moves when other work shares the machine. Both are printed.

Articles are drawn from a fixed, seeded vocabulary of filler words mixed with topic terms, actor names and
modality cues, so every rule, the gazetteer and the modality pass all do real work. Two densities: 3% topical
words (a news article on one of the topics) and 8% (a stress case: every topic matches, 4-5 per article).

    .venv/bin/python -m bench.classify [--articles 5000] [--seed 7] [--density 0.03 0.08]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from pipeline.classify import Classifier

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
FILLER = (
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "on",
    "for",
    "with",
    "that",
    "said",
    "officials",
    "on",
    "Monday",
    "week",
    "country",
    "government",
    "people",
    "would",
    "statement",
    "analysts",
    "year",
    "after",
    "before",
    "since",
    "while",
    "region",
    "border",
    "economy",
    "talks",
    "meeting",
    "report",
    "new",
    "also",
    "more",
    "than",
    "about",
    "over",
    "under",
    "between",
    "during",
    "its",
    "their",
    "his",
    "her",
    "which",
    "who",
    "when",
    "where",
)
TOPICAL = (
    "arms deal",
    "supplied artillery shells",
    "munitions",
    "military aid",
    "state visit",
    "may travel",
    "summit talks",
    "President Vladimir Putin",
    "Kim Jong Un",
    "Pyongyang",
    "the Kremlin",
    "Washington",
    "Seoul",
    "Beijing",
    "sanctions",
    "UN Security Council resolutions",
    "imposed sanctions",
    "ballistic missile",
    "test-fired",
    "nuclear test",
    "joint military exercise",
    "live-fire drills",
    "troops",
    "reportedly",
    "according to",
    "denied",
    "declined to comment",
    "is expected to",
    "visited",
    "Kyiv",
    "Xi Jinping",
    "Tehran",
    "North Korean",
    "Russian",
)


def article(rng: random.Random, density: float, size: int = 2048) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(TOPICAL) if rng.random() < density else rng.choice(FILLER)
        if rng.random() < 0.07:
            word += "."
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--density", type=float, nargs="+", default=[0.03, 0.08], help="topical share of words"
    )
    args = parser.parse_args()
    classifier = Classifier.from_dir(DEPLOY)
    for density in args.density:
        _run(classifier, random.Random(args.seed), args.articles, density)


def _run(classifier: Classifier, rng: random.Random, articles: int, density: float) -> None:
    titles = [article(rng, density, size=80) for _ in range(articles)]
    corpus = [(title, article(rng, density)) for title in titles]
    for title, text in corpus[:200]:
        classifier.classify(title, text)
    start, cpu_start = time.perf_counter(), time.process_time()
    topics = 0
    for title, text in corpus:
        topics += len(classifier.classify(title, text).topics)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(
        f"{len(corpus) / cpu:,.0f} articles per CPU-second, {len(corpus) / elapsed:,.0f} articles/s wall "
        f"({len(corpus)} articles of ~2 KB, {density:.0%} topical words, "
        f"{topics / len(corpus):.1f} topics/article)"
    )


if __name__ == "__main__":
    main()
