"""Per-story holds: the alerts the pipeline issues for one article (one per topic, moments apart) become
one story message.

A story's first alert opens a hold of `hold_s`; its story's alerts that arrive meanwhile join it, and
at the deadline the group is released whole. The deadline is fixed when the hold opens and never
extended, so no message waits longer than `hold_s`, however busy the story.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Hold(Generic[T]):
    due: float
    items: list[T] = field(default_factory=list)


class Holds(Generic[T]):
    """Groups keyed by story, on a monotonic clock the caller passes in (seconds)."""

    def __init__(self, hold_s: float) -> None:
        self._hold_s = hold_s
        self._holds: dict[str, _Hold[T]] = {}

    def add(self, key: str, item: T, now: float) -> None:
        self._holds.setdefault(key, _Hold(now + self._hold_s)).items.append(item)

    def due(self, now: float) -> list[list[T]]:
        """The groups whose deadline has come, oldest first, removed from the holds."""
        ready = sorted((h.due, key) for key, h in self._holds.items() if h.due <= now)
        return [self._holds.pop(key).items for _, key in ready]

    def next_due(self) -> float | None:
        return min((h.due for h in self._holds.values()), default=None)
