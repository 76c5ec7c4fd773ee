"""Breaking news: a story whose independent sources pile up faster than is usual for its kind of news.

Five outlets reporting a Kim-Putin meeting within the hour is the normal pace of a summit everyone
expected; five outlets within the hour on a quiet topic is news in itself. So "fast" is measured
against a baseline per (topic, actor): each time a story gains an independent source, the sources it
gained within the last `window` are one observation of its kind's pace, folded into an exponentially
weighted mean. A story is breaking when that count reaches `min_sources` and `factor` times the
baseline of its kind (the largest of its keys' baselines, so a story of a busy pair is held to the busy
pace). Everything runs on event time, so a replay after a restart reaches the same verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class BreakingParams:
    window: timedelta = timedelta(hours=1)
    min_sources: int = 3
    factor: float = 2.0
    smoothing: float = 0.1
    """Weight of one observation in the mean: about the last ten stories' updates of a kind count."""
    prior: float = 1.0
    """The pace assumed for a kind of news not seen yet: one new source an hour."""
    max_actors: int = 3


@dataclass(frozen=True, slots=True)
class Surge:
    """Why a story is breaking: the numbers the alert and the message carry."""

    sources: int
    """Independent sources the story gained within `window_s` before `at`."""
    window_s: int
    baseline: float
    """The usual count for the story's kind of news (topic x actor)."""
    kind: str
    at: datetime

    @property
    def ratio(self) -> float:
        return self.sources / self.baseline

    @property
    def kind_label(self) -> str:
        return self.kind.replace("|*", "").replace("|", " and ")

    def describe(self) -> str:
        return (
            f"{self.sources} independent sources within {self.window_s // 60} min,"
            f" {self.ratio:.1f}x the usual {self.baseline:.1f} for {self.kind_label}"
        )


def kinds(topics: Iterable[str], actor_ids: Iterable[str], params: BreakingParams) -> list[str]:
    """The (topic, actor) keys of a story, and (topic, any) so a new actor is judged by its topic."""
    actors = list(actor_ids)[: params.max_actors]
    return [f"{t}|{a}" for t in sorted(topics) for a in ["*", *actors]]


class SurgeDetector:
    """Baseline pace per kind of news, and the verdict for one story update."""

    def __init__(self, params: BreakingParams | None = None) -> None:
        self.params = params or BreakingParams()
        self._pace: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._pace)

    def observe(self, keys: list[str], arrivals: Iterable[datetime], when: datetime) -> Surge | None:
        """A story of `keys` gained an independent source at `when`; `arrivals` are the event times its
        independent sources first reported it. Returns the surge if this update makes it breaking."""
        p = self.params
        recent = sum(1 for t in arrivals if when - p.window <= t <= when)
        known = [(self._pace[k], k) for k in keys if k in self._pace]
        baseline, kind = max(known) if known else (p.prior, keys[0] if keys else "news")
        for key in keys:
            pace = self._pace.get(key, p.prior)
            self._pace[key] = pace + p.smoothing * (recent - pace)
        if recent >= p.min_sources and recent >= p.factor * baseline:
            return Surge(recent, int(p.window.total_seconds()), round(baseline, 2), kind, when)
        return None

    def state_bytes(self) -> int:
        """Per kind: its key (about 30 bytes) and an 8-byte mean; shared by all stories."""
        return sum(len(k) + 8 for k in self._pace)
