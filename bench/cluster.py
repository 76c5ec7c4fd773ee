"""Story clustering throughput: `StoryIndex.assign` over synthetic ~2-KB documents, and state per story.

Documents are seeded pseudo-random sentences over a Zipf-weighted made-up vocabulary; about 30% are
near-duplicates of an earlier original (new headline, a sentence dropped, ~5% of words replaced,
another source), as outlets copy the wire rather than each other. Prints numbers only.

    .venv/bin/python -m bench.cluster [--docs 5000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from pipeline.cluster import ClusterDoc, StoryIndex

SYLLABLES = ["ka", "lo", "mi", "ren", "sa", "tor", "vi", "dun", "el", "pra", "qu", "ost", "an", "bel", "cor"]
TIERS = ["wire", "national", "regional", "state_media", "official"]


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def _sentence(rng: random.Random, vocab: list[str], weights: list[float]) -> str:
    return " ".join(rng.choices(vocab, weights, k=rng.randint(8, 22))).capitalize() + "."


def _documents(count: int, seed: int) -> tuple[list[ClusterDoc], list[int]]:
    """The documents, and for each the index of the document it copies (its own index if original)."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    start = datetime(2026, 5, 4, tzinfo=UTC)
    docs: list[ClusterDoc] = []
    origin: list[int] = []
    originals: list[int] = []
    for i in range(count):
        at = start + timedelta(seconds=30 * i)
        source = f"src-{rng.randrange(300)}"
        tier = TIERS[rng.randrange(len(TIERS))]
        if docs and rng.random() < 0.3:
            base = originals[rng.randrange(max(0, len(originals) - 400), len(originals))]
            parts = docs[base].text.split("\n")
            parts.pop(rng.randrange(len(parts)))
            words = "\n".join(parts).split(" ")
            for _ in range(len(words) // 20):
                words[rng.randrange(len(words))] = rng.choice(vocab)
            text = " ".join(words)
            origin.append(base)
        else:
            sentences: list[str] = []
            while sum(len(s) + 1 for s in sentences) < 2048:
                sentences.append(_sentence(rng, vocab, weights))
            text = "\n".join(sentences)
            origin.append(i)
            originals.append(i)
        title = _sentence(rng, vocab, weights)
        docs.append(ClusterDoc(f"item-{i}", title, text, source, tier, at))
    return docs, origin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    docs, origin = _documents(args.docs, args.seed)

    index = StoryIndex()
    began = time.perf_counter()
    story_of = [index.assign(doc).story_id for doc in docs]
    elapsed = time.perf_counter() - began

    first_story = {origin[i]: story_of[i] for i in range(len(docs)) if origin[i] == i}
    copies = [i for i in range(len(docs)) if origin[i] != i]
    joined = sum(story_of[i] == first_story[origin[i]] for i in copies)
    originals = len(first_story)
    merged = originals - len({story_of[i] for i in first_story})

    tracemalloc.start()
    measured = StoryIndex()
    for doc in docs:
        measured.assign(doc)
    python_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    print(f"docs                      {len(docs)}")
    print(f"mean doc chars            {sum(len(d.text) for d in docs) / len(docs):.0f}")
    print(f"near-duplicates           {len(copies)}")
    print(f"near-duplicates joined    {joined}")
    print(f"originals merged wrongly  {merged}")
    print(f"stories                   {len(index)}")
    print(f"assign docs/s             {len(docs) / elapsed:.0f}")
    print(f"state bytes/story (est.)  {index.state_bytes() / len(index):.0f}")
    print(f"python heap bytes/story   {python_bytes / len(measured):.0f}  (incl. boilerplate filter)")


if __name__ == "__main__":
    main()
