"""Backtest of the topic rules against labelled articles: per-topic precision, recall and F1, and the errors.

An analyst runs it before deploying a rule change (`watchfloor eval topics`). The gold is JSON lines in the
`watchfloor classify` contract (`id`, `title`, `text`, `language`) plus `"topics": [...]`, the full set of
topics the article should get: an empty list is a labelled negative. Scoring is per article and per topic,
so one article with a missed and a wrong topic counts once as each.

A gold line may also say how the text presents each gold topic's event (`"modality": {"<topic>":
"<value>"}`, the values of `schemas.rules.Modality`). Modality is scored only where the topic is both gold
and predicted: a missed topic has no modality to judge, and counting it again would blur the two measures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from schemas.rules import Modality

MODALITIES = (Modality.ACTUAL, Modality.PLANNED_OR_POSSIBLE, Modality.REPORTED, Modality.DENIED)
"""The order of the confusion table's rows and columns: from what happened to what did not."""
_VALUES = tuple(m.value for m in MODALITIES)


@dataclass(frozen=True, slots=True)
class GoldItem:
    id: str
    title: str
    text: str
    language: str
    topics: frozenset[str]
    modality: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Gold modality per topic, for some or all of `topics`; empty when the line has none."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the classifier said about one gold item."""

    item: GoldItem
    predicted: frozenset[str]
    modality: Mapping[str, str | None] = field(default_factory=dict, hash=False)
    """Predicted modality per predicted topic, when the predictor gives one."""

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
class ModalityPair:
    """One (article, topic) that is gold and predicted and has a gold modality."""

    item: GoldItem
    topic: str
    gold: str
    predicted: str


@dataclass(frozen=True, slots=True)
class ModalityScore:
    pairs: tuple[ModalityPair, ...]
    unscored: int
    """Gold modalities whose topic was missed (or predicted without a modality): not judged."""

    @property
    def accuracy(self) -> float | None:
        return sum(p.gold == p.predicted for p in self.pairs) / len(self.pairs) if self.pairs else None

    def count(self, gold: str, predicted: str) -> int:
        """One cell of the confusion table."""
        return sum(p.gold == gold and p.predicted == predicted for p in self.pairs)

    def precision(self, value: str) -> float | None:
        """None when nothing was predicted as `value`."""
        predicted = sum(p.predicted == value for p in self.pairs)
        return self.count(value, value) / predicted if predicted else None

    def recall(self, value: str) -> float | None:
        """None when no scored pair has `value` as its gold."""
        gold = sum(p.gold == value for p in self.pairs)
        return self.count(value, value) / gold if gold else None

    @property
    def errors(self) -> list[ModalityPair]:
        return [p for p in self.pairs if p.gold != p.predicted]


@dataclass(frozen=True, slots=True)
class Report:
    topics: tuple[TopicScore, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def modality(self) -> ModalityScore | None:
        """None when no gold line has a modality, so a topics-only gold reports topics only."""
        if not any(o.item.modality for o in self.outcomes):
            return None
        pairs: list[ModalityPair] = []
        unscored = 0
        for outcome in self.outcomes:
            for topic, gold in outcome.item.modality.items():
                predicted = outcome.modality.get(topic) if topic in outcome.predicted else None
                if predicted is None:
                    unscored += 1
                else:
                    pairs.append(ModalityPair(outcome.item, topic, gold, predicted))
        return ModalityScore(tuple(pairs), unscored)

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
    modality = doc.get("modality", {})
    if not isinstance(modality, dict):
        raise TypeError("'modality' must map topic ids to modalities")
    for topic, value in modality.items():
        if topic not in topics:
            raise ValueError(f"modality for {topic!r}, which is not among the gold topics")
        if value not in _VALUES:
            raise ValueError(f"modality {value!r} for {topic!r} is none of {', '.join(_VALUES)}")
    return GoldItem(
        str(doc.get("id", f"line-{number}")),
        str(doc.get("title", "")),
        str(doc["text"]),
        str(doc.get("language", "en")),
        frozenset(topics),
        modality,
    )


def evaluate(
    items: Sequence[GoldItem],
    predict: Callable[[GoldItem], Iterable[str] | Mapping[str, str | None]],
    topics: Iterable[str] = (),
) -> Report:
    """Score `predict` on every item for `topics` (the rule set's) and every topic of the gold or output.
    `predict` gives an item's topics, or a mapping of each topic to its modality to score that too."""
    outcomes = tuple(_outcome(item, predict(item)) for item in items)
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


def _outcome(item: GoldItem, predicted: Iterable[str] | Mapping[str, str | None]) -> Outcome:
    modality = dict(predicted) if isinstance(predicted, Mapping) else {}
    return Outcome(item, frozenset(predicted), modality)
