"""Garbage-collector settings for the worker that holds a shard's state.

The state is a large and growing heap of small containers (postings, centroids, summaries, bucket
tuples) that live for hours, and an item allocates thousands of short-lived ones: with CPython's
defaults the collector walks the same long-lived objects again and again (≈ 9 % of the keyed core's
CPU on bench items, bench/RESULTS.md). Reference counting frees the state's acyclic garbage either way.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Allocations between young collections (CPython's default: 700)."""


def settle() -> None:
    """After a shard's state is built: collect once, move every live object out of the collector's sight
    (`gc.freeze`: the restored state and the worker's modules are never garbage), and collect the young
    generation less often. Cyclic garbage among frozen objects is never collected: call it when a state
    is built, not per item."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
