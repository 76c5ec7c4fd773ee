"""Event links: an independent report of a live story, written in its own words, joins that story.

Near-duplicate clustering (pipeline/cluster.py) is textual: wire copies and edits join, but a second
outlet's own report of the same event shares too few shingles and would open a story of its own, with a
second set of alerts. What such reports share is the event: the same topic between the same people. So
an article that clustering would put in a new story joins, instead, the live story it shares a matched
topic and two named people with (people from the gazetteer: countries alone are too coarse, "North
Korea" and "Russia" share many stories), if that story began within `LINK_WINDOW` of the article's
event time. The window runs from the story's first article, not its latest: otherwise a pair always in
the news (two leaders and their arms talks) would keep one story open for ever and swallow every later
event. The most recently begun story wins; ties go to the smaller story id, so the choice does not
depend on processing order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

from pipeline.textnorm import stable_hash
from schemas.article import ActorRef

LINK_WINDOW = timedelta(hours=48)
MAX_PEOPLE = 6
"""People per article considered (the first named): bounds the pairs to 15 per topic."""

Key = int
"""64-bit hash of (topic, person id, person id), the ids in sorted order: 8 bytes of state, not three
strings."""


def link_key(topic: str, a: str, b: str) -> Key:
    first, second = sorted((a, b))
    return stable_hash(f"{topic}\x00{first}\x00{second}")


def event_keys(topics: Iterable[Mapping[str, Any]], actors: Iterable[ActorRef]) -> list[Key]:
    """Every (topic, pair of named people) of one article; none with fewer than two people."""
    people = _people(actors)
    return [link_key(t["topic"], a, b) for t in topics for a, b in combinations(people, 2)]


def _people(actors: Iterable[ActorRef]) -> list[str]:
    named = list(dict.fromkeys(a.id for a in actors if a.type == "person"))
    return named[:MAX_PEOPLE]


class EventLinks:
    """For each key, the most recently begun story with an article that has it, and when it began."""

    def __init__(self, window: timedelta = LINK_WINDOW) -> None:
        self.window = window
        self._latest: dict[Key, tuple[datetime, str]] = {}
        self._keys: dict[str, set[Key]] = {}

    def find(self, keys: Iterable[Key], when: datetime) -> str | None:
        """The story to link an article with these keys to, at event time `when`; None if there is none."""
        best: tuple[datetime, str] | None = None
        for key in keys:
            seen = self._latest.get(key)
            if seen is not None and abs(when - seen[0]) <= self.window and _before(best, seen):
                best = seen
        return None if best is None else best[1]

    def record(self, keys: Iterable[Key], story_id: str, began: datetime) -> None:
        """`story_id`, which began at `began` (its first article's event time), has articles with `keys`."""
        for key in keys:
            if _before(self._latest.get(key), (began, story_id)):
                self._latest[key] = (began, story_id)
                self._keys.setdefault(story_id, set()).add(key)

    def forget(self, story_ids: Iterable[str]) -> None:
        """Drop expired stories' keys (a key another story has since taken stays with it)."""
        for story_id in story_ids:
            for key in self._keys.pop(story_id, ()):
                if self._latest.get(key, (None, None))[1] == story_id:
                    del self._latest[key]

    def state_bytes(self) -> int:
        """Serialised size: per story its id once, per key its 8-byte hash and 8-byte time."""
        return sum(len(story_id) + 1 for story_id in self._keys) + 16 * len(self._latest)


def _before(held: tuple[datetime, str] | None, other: tuple[datetime, str]) -> bool:
    """Whether `other` takes a key from `held`: it began later, or at the same time with a smaller id."""
    return held is None or other[0] > held[0] or (other[0] == held[0] and other[1] < held[1])
