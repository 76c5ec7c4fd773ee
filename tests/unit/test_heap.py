"""The worker's collector settings once a shard's state is built (pipeline/heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pipeline import heap


@pytest.fixture
def collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector")
def test_settle_freezes_what_lives_and_collects_young_objects_less_often() -> None:
    _, middle, old = gc.get_threshold()
    state = {n: (n, str(n)) for n in range(1000)}
    heap.settle()
    assert gc.get_freeze_count() >= len(state)
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, middle, old)
    assert heap.YOUNG_THRESHOLD > 700  # fewer young collections than CPython's default
