"""Story-clustering scorer: replay a labelled corpus through the pipeline's own logic and score the result.

What an analyst feels is measured, not a proxy: items go through the same steps as the streaming job
(exact dedup → classify → story assignment → alert decisions, `PipelineState`), in publication order,
and the stories and alerts that come out are compared with hand-made gold stories and topics.

- **B-cubed** precision/recall/F1 over labelled items (gold story not null): per item, how much of its
  predicted story is its gold story and vice versa (Bagga & Baldwin 1998; Amigó et al. 2009).
- **Pairwise** precision/recall/F1 over pairs of labelled items, with recall split into *copies* (two
  items whose word 3-gram shingle sets overlap by ≥ `COPY_JACCARD`, i.e. one outlet's text carried by
  another) and *own-words* reports (everything else), because the second is the hard case.
- **Alerts per real (story, topic)**: a gold story has a topic when any of its items has it; each
  predicted story that alerted on a topic counts once for the gold story most of its labelled items
  belong to. Missed = real (story, topic) pairs with no alert; false = alerts whose gold story does not
  have that topic (or that cover only unlabelled items).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations

from pipeline.articles import Analysis, analyse
from pipeline.classify.backtest import TopicScore
from pipeline.classify.engine import Classifier
from pipeline.state import PipelineState
from pipeline.textnorm import tokens
from schemas.alert import AlertDoc
from schemas.item import FeedItem

COPY_JACCARD = 0.5
SHINGLE = 3


@dataclass(frozen=True, slots=True)
class Gold:
    guid: str
    story: str | None
    """None: an item outside the labelled scope (unlabelled, not scored for clustering)."""
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Replayed:
    """One corpus item after the replay: the story it ended up in (a dropped duplicate: its original's)."""

    item: FeedItem
    gold: Gold
    story_id: str
    duplicate: str | None
    """None, or the exact-dedup kind that dropped it ("url", "hash")."""
    topics: tuple[str, ...] = ()
    """The topics the classifier found in it (none for a dropped duplicate: it was not classified)."""


@dataclass
class Replay:
    items: list[Replayed] = field(default_factory=list)
    alerts: list[AlertDoc] = field(default_factory=list)
    final: dict[str, str] = field(default_factory=dict)
    """Story id an alert was issued under -> the story it belongs to in the end (after merges)."""


def replay(
    state: PipelineState,
    classifier: Classifier | Callable[[FeedItem], Analysis],
    corpus: Iterable[tuple[FeedItem, Gold]],
) -> Replay:
    """Run the stateful steps in job order over `corpus` (publication order), keeping every decision.

    `classifier` may be a function giving an item's analysis (a bench classifies once, outside its timing).
    """
    classify: Callable[[FeedItem], Analysis] = (
        partial(analyse, classifier) if isinstance(classifier, Classifier) else classifier
    )
    out = Replay()
    story_of: dict[tuple[str, str], str] = {}  # dedup key -> story of the article that holds it
    for item, gold in corpus:
        kind = state.deduplicate(item)
        keys = [("url", item.url)] if item.url else []
        keys.append(("hash", item.content_hash))
        if kind in {"url", "hash"}:
            original = next(story_of[k] for k in keys if k in story_of)
            out.items.append(Replayed(item, gold, original, kind))
            continue
        analysis = classify(item)
        placed = state.assign(item, analysis)
        story_id = placed.story.story_id
        for key in keys:
            story_of.setdefault(key, story_id)
        out.alerts.extend(state.decide(placed))
        topics = tuple(str(t["topic"]) for t in analysis.topics)
        out.items.append(Replayed(item, gold, story_id, None, topics))
    # Stories merged later are one story in the end (their alerts keep the id they were issued under).
    out.items = [
        Replayed(r.item, r.gold, state.resolve(r.story_id), r.duplicate, r.topics) for r in out.items
    ]
    out.final = {a.watchfloor.story_id: state.resolve(a.watchfloor.story_id) for a in out.alerts}
    return out


@dataclass(frozen=True, slots=True)
class PRF:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def bcubed(pred: Sequence[str], gold: Sequence[str]) -> PRF:
    """B-cubed over items `i` with predicted cluster `pred[i]` and gold cluster `gold[i]`."""
    pred_sizes = Counter(pred)
    gold_sizes = Counter(gold)
    both = Counter(zip(pred, gold, strict=True))
    n = len(pred)
    precision = sum(both[(p, g)] / pred_sizes[p] for p, g in zip(pred, gold, strict=True))
    recall = sum(both[(p, g)] / gold_sizes[g] for p, g in zip(pred, gold, strict=True))
    return PRF(_ratio(precision, n), _ratio(recall, n))


def is_copy(a: FeedItem, b: FeedItem) -> bool:
    """Whether two items carry one text: their title+summary shingle sets overlap by ≥ `COPY_JACCARD`."""
    sa, sb = _shingles(a), _shingles(b)
    return bool(sa and sb) and len(sa & sb) / len(sa | sb) >= COPY_JACCARD


def _shingles(item: FeedItem) -> frozenset[tuple[str, ...]]:
    words = tokens(f"{item.title}\n{item.content or item.summary}")
    if len(words) < SHINGLE:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


@dataclass(frozen=True, slots=True)
class PairScores:
    precision: float
    recall: float
    copy_recall: float
    own_words_recall: float
    true_pairs: int
    copy_pairs: int
    predicted_pairs: int

    @property
    def f1(self) -> float:
        return PRF(self.precision, self.recall).f1


def pairwise(items: Sequence[Replayed]) -> PairScores:
    """Pair precision/recall over labelled items, recall split into copies and own-words reports."""
    by_gold: dict[str, list[Replayed]] = defaultdict(list)
    by_pred: dict[str, list[Replayed]] = defaultdict(list)
    for r in items:
        assert r.gold.story is not None
        by_gold[r.gold.story].append(r)
        by_pred[r.story_id].append(r)
    true = joined = copies = copies_joined = 0
    for members in by_gold.values():
        for a, b in combinations(members, 2):
            copy = is_copy(a.item, b.item)
            same = a.story_id == b.story_id
            true += 1
            joined += same
            copies += copy
            copies_joined += copy and same
    predicted = sum(len(m) * (len(m) - 1) // 2 for m in by_pred.values())
    own = true - copies
    return PairScores(
        precision=_ratio(joined, predicted),
        recall=_ratio(joined, true),
        copy_recall=_ratio(copies_joined, copies),
        own_words_recall=_ratio(joined - copies_joined, own),
        true_pairs=true,
        copy_pairs=copies,
        predicted_pairs=predicted,
    )


@dataclass(frozen=True, slots=True)
class AlertScores:
    real: int
    """Gold (story, topic) pairs."""
    alerted: int
    """Of those, how many got at least one alert."""
    alerts: int
    """Alert threads (story id issued under, topic) that map to a real (story, topic): what an analyst
    received, so two stories merged later still count as two."""
    exactly_one: int
    false: int
    """Alerting (predicted story, topic) pairs whose gold story does not have the topic."""
    per_story: dict[str, int]
    """Alerting predicted stories per gold story (what a story-level notifier sends first messages for)."""
    missed_pairs: list[tuple[str, str]]
    false_pairs: list[tuple[str | None, str]]

    @property
    def per_real(self) -> float:
        return _ratio(self.alerts, self.alerted)

    @property
    def missed(self) -> float:
        return _ratio(self.real - self.alerted, self.real)


def alert_scores(replay: Replay) -> AlertScores:
    gold_topics: dict[str, set[str]] = defaultdict(set)
    members: dict[str, list[str | None]] = defaultdict(list)
    for r in replay.items:
        members[r.story_id].append(r.gold.story)
        if r.gold.story is not None:
            gold_topics[r.gold.story].update(r.gold.topics)
    owner = {story_id: _majority(labels) for story_id, labels in members.items()}
    issued = {(a.watchfloor.story_id, a.watchfloor.topic) for a in replay.alerts}
    alerting = [(replay.final.get(story_id, story_id), topic) for story_id, topic in sorted(issued)]
    hits: Counter[tuple[str, str]] = Counter()
    false_alerts: list[tuple[str | None, str]] = []
    stories: dict[str, set[str]] = defaultdict(set)
    false = 0
    for story_id, topic in alerting:
        gold = owner.get(story_id)
        if gold is None or topic not in gold_topics[gold]:
            false += 1
            false_alerts.append((gold, topic))
            continue
        hits[(gold, topic)] += 1
        stories[gold].add(story_id)
    real = {(story, topic) for story, topics in gold_topics.items() for topic in topics}
    return AlertScores(
        real=len(real),
        alerted=len(hits),
        alerts=sum(hits.values()),
        exactly_one=sum(1 for n in hits.values() if n == 1),
        false=false,
        per_story={story: len(ids) for story, ids in sorted(stories.items())},
        missed_pairs=sorted(real - set(hits)),
        false_pairs=sorted(false_alerts, key=str),
    )


def _majority(labels: list[str | None]) -> str | None:
    """The gold story most of a predicted story's labelled items belong to (first seen wins a tie)."""
    counted = Counter(label for label in labels if label is not None)
    return counted.most_common(1)[0][0] if counted else None


def topic_counts(replay: Replay) -> dict[str, TopicScore]:
    """Per topic, article-level counts over the items the replay classified (not dropped duplicates), each
    article on its own words (the gold's topics are labelled from the item's title and summary, whatever
    its story): scored as `watchfloor eval topics` scores a labelled file."""
    classified = [r for r in replay.items if r.duplicate is None]
    names = sorted({t for r in classified for t in (*r.topics, *r.gold.topics)})
    counts = {}
    for name in names:
        found = [name in r.topics for r in classified]
        wanted = [name in r.gold.topics for r in classified]
        pairs = list(zip(found, wanted, strict=True))
        counts[name] = TopicScore(
            name,
            sum(f and w for f, w in pairs),
            sum(f and not w for f, w in pairs),
            sum(w and not f for f, w in pairs),
        )
    return counts


@dataclass(frozen=True, slots=True)
class StoryReport:
    items: int
    labelled: int
    duplicates: int
    predicted_stories: int
    gold_stories: int
    bcubed: PRF
    pairs: PairScores
    alerts: AlertScores
    topics: dict[str, TopicScore]


def score(replay: Replay) -> StoryReport:
    labelled = [r for r in replay.items if r.gold.story is not None]
    gold = [r.gold.story for r in labelled if r.gold.story is not None]
    return StoryReport(
        items=len(replay.items),
        labelled=len(labelled),
        duplicates=sum(1 for r in replay.items if r.duplicate),
        predicted_stories=len({r.story_id for r in labelled}),
        gold_stories=len(set(gold)),
        bcubed=bcubed([r.story_id for r in labelled], gold),
        pairs=pairwise(labelled),
        alerts=alert_scores(replay),
        topics=topic_counts(replay),
    )


def story_splits(replay: Replay) -> list[tuple[str, int, list[int]]]:
    """Gold stories, largest first, with the sizes of the predicted stories their items went to."""
    parts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in replay.items:
        if r.gold.story is not None:
            parts[r.gold.story][r.story_id] += 1
    rows = [(story, sum(c.values()), sorted(c.values(), reverse=True)) for story, c in parts.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0]))
