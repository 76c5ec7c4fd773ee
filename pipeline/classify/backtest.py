"""Backtest of the topic rules against labelled articles: per-topic precision, recall and F1, and the errors.

An analyst runs it before deploying a rule change (`watchfloor eval topics`). The gold is JSON lines in the
`watchfloor classify` contract (`id`, `title`, `text`, `language`) plus `"topics": [...]`, the full set of
topics the article should get: an empty list is a labelled negative. Scoring is per article and per topic,
so one article with a missed and a wrong topic counts once as each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GoldItem:
    id: str
    title: str
    text: str
    language: str
    topics: frozenset[str]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the classifier said about one gold item."""

    item: GoldItem
    predicted: frozenset[str]

    @property
    def missed(self) -> frozenset[str]:
        return self.item.topics - self.predicted

    @property
    def false_alarms(self) -> frozenset[str]:
        return self.predicted - self.item.topics


@dataclass(frozen=True, slots=True)
class TopicScore:
    topic: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def gold(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def predicted(self) -> int:
        return self.true_positives + self.false_positives

    @property
    def precision(self) -> float | None:
        """None when nothing was predicted: no evidence either way."""
        return self.true_positives / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        """None when the gold has no positive."""
        return self.true_positives / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        """None when there is neither a gold positive nor a prediction."""
        denominator = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / denominator if denominator else None


@dataclass(frozen=True, slots=True)
class Report:
    topics: tuple[TopicScore, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def macro_f1(self) -> float | None:
        """The mean F1 over topics that have one, so a topic absent from both gold and output is no 1.0."""
        scores = [t.f1 for t in self.topics if t.f1 is not None]
        return sum(scores) / len(scores) if scores else None

    def misses(self, topic: str) -> list[Outcome]:
        return [o for o in self.outcomes if topic in o.missed]

    def false_alarms(self, topic: str) -> list[Outcome]:
        return [o for o in self.outcomes if topic in o.false_alarms]


def read_gold(lines: Iterable[str]) -> list[GoldItem]:
    """Parse gold JSON lines (blank lines skipped); a bad line raises ValueError naming its number."""
    items: list[GoldItem] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = _gold_item(json.loads(line), number)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {number}: {type(exc).__name__}: {exc}") from exc
        if item.id in seen:
            raise ValueError(f"line {number}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    return items


def _gold_item(doc: dict[str, object], number: int) -> GoldItem:
    topics = doc["topics"]
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise TypeError("'topics' must be a list of topic ids")
    return GoldItem(
        str(doc.get("id", f"line-{number}")),
        str(doc.get("title", "")),
        str(doc["text"]),
        str(doc.get("language", "en")),
        frozenset(topics),
    )


def evaluate(
    items: Sequence[GoldItem], predict: Callable[[GoldItem], Iterable[str]], topics: Iterable[str] = ()
) -> Report:
    """Score `predict` on every item for `topics` (the rule set's) and every topic of the gold or output."""
    outcomes = tuple(Outcome(item, frozenset(predict(item))) for item in items)
    names = dict.fromkeys(topics)
    for outcome in outcomes:
        names.update(dict.fromkeys(sorted(outcome.item.topics | outcome.predicted)))
    scores = tuple(
        TopicScore(
            name,
            sum(name in o.item.topics and name in o.predicted for o in outcomes),
            sum(name in o.false_alarms for o in outcomes),
            sum(name in o.missed for o in outcomes),
        )
        for name in names
    )
    return Report(scores, outcomes)
