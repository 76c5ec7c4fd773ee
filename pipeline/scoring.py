"""Severity of a (story, topic): topic weight * watch-listed actors * corroboration * novelty * confidence.

Each factor is kept with the result, so an analyst sees why an alert is "high" and a rule writer can
tune one factor without guessing at the others:

- **topic weight** — the rule's ``alert_weight`` (an arms deal matters more than an exercise);
- **actors** — the largest watch-list weight among the story's actors (deploy/watchlist.yaml), else 1;
- **corroboration** — distinct *independent* sources (syndicated copies of one wire story count once),
  +``corroboration_step`` per source beyond the first, up to ``corroboration_cap`` sources;
- **novelty** — 1 while the story is younger than ``fresh``, falling linearly to ``stale_factor`` at
  ``stale`` (a three-day-old story resurfacing is less urgent than breaking news);
- **confidence** — how far the topic score clears the rule's threshold (0.85 at it, 1.0 at twice it);
- **breaking** — ``breaking_factor`` for ``breaking_for`` after the story's sources came in faster than
  usual for its kind of news (pipeline/breaking.py), else 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import get_args

import yaml

from pipeline.stories import StoryView, TopicFact
from schemas.alert import Severity

SEVERITIES: tuple[Severity, ...] = get_args(Severity)
"""Low to critical; an index in this tuple is a severity's rank."""

_BANDS: tuple[tuple[int, Severity], ...] = ((85, "critical"), (65, "high"), (40, "medium"), (0, "low"))


def band(score: int) -> Severity:
    return next(label for floor, label in _BANDS if score >= floor)


@dataclass(frozen=True)
class Watchlist:
    weights: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Watchlist:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        weights = {str(k): float(v) for k, v in (data.get("actors") or {}).items()}
        bad = {k: v for k, v in weights.items() if v < 1}
        if bad:
            raise ValueError(f"{path}: watch-list weights must be ≥ 1: {bad}")
        return cls(weights)

    def factor(self, actor_ids: Iterable[str]) -> tuple[float, str | None]:
        """The largest weight among the actors and whose it is; (1.0, None) when none is listed."""
        best: tuple[float, str | None] = (1.0, None)
        for actor in actor_ids:
            weight = self.weights.get(actor, 1.0)
            if weight > best[0]:
                best = (weight, actor)
        return best


@dataclass(frozen=True, slots=True)
class ScoringParams:
    corroboration_step: float = 0.15
    corroboration_cap: int = 5
    fresh: timedelta = timedelta(hours=6)
    stale: timedelta = timedelta(hours=72)
    stale_factor: float = 0.6
    breaking_factor: float = 1.25
    breaking_for: timedelta = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class SeverityScore:
    score: int
    """0-100, the ECS ``event.severity``."""
    label: Severity
    factors: dict[str, float]
    arithmetic: str

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.label)


def score_topic(
    fact: TopicFact,
    *,
    topic_weight: float,
    story: StoryView,
    now: datetime,
    watchlist: Watchlist,
    params: ScoringParams = ScoringParams(),
) -> SeverityScore:
    """Severity of `fact`'s topic in `story` as of event time `now`."""
    actors, actor = watchlist.factor(story.actor_ids)
    independent = max(1, len(story.independent_sources))
    corroboration = 1 + params.corroboration_step * (min(independent, params.corroboration_cap) - 1)
    age = max(timedelta(0), now - story.first_seen)
    if age <= params.fresh:
        novelty = 1.0
    else:
        span = (params.stale - params.fresh).total_seconds()
        faded = min(1.0, (age - params.fresh).total_seconds() / span)
        novelty = 1 - (1 - params.stale_factor) * faded
    ratio = min(max(fact.score / fact.threshold, 1.0), 2.0)
    confidence = 0.85 + 0.15 * (ratio - 1)
    surging = story.surge is not None and now - story.surge.at <= params.breaking_for
    breaking = params.breaking_factor if surging else 1.0
    raw = 100 * topic_weight * actors * corroboration * novelty * confidence * breaking
    score = min(100, round(raw))
    arithmetic = (
        f"100 * topic {topic_weight:g} * actors {actors:g}"
        + (f" ({actor})" if actor else "")
        + f" * corroboration {corroboration:.2f} ({independent} independent)"
        + f" * novelty {novelty:.2f} * confidence {confidence:.2f}"
        + (f" * breaking {breaking:g}" if surging else "")
        + f" = {raw:.1f} → {score}"
    )
    factors = {
        "topic": topic_weight,
        "actors": actors,
        "corroboration": round(corroboration, 4),
        "novelty": round(novelty, 4),
        "confidence": round(confidence, 4),
        "breaking": breaking,
    }
    return SeverityScore(score, band(score), factors, arithmetic)
