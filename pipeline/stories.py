"""What the pipeline knows about a story beyond its signature: topics, actors, sources, headline.

`StoryIndex` (pipeline/cluster.py) decides which story an article joins; `StoryBook` keeps the
story-level facts alerts are made of, and which articles it has already counted, so a replayed item
(after a restart or a retried bundle) updates nothing twice. A copy nearly identical to the story
(estimated body similarity ≥ `SYNDICATION_THRESHOLD`) is syndication, not corroboration: its source counts
among `sources` but not among `independent_sources`.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.breaking import Surge
from pipeline.textnorm import stable_hash
from schemas.article import ActorRef

SYNDICATION_THRESHOLD = 0.7
"""Body similarity from which a copy is syndication: a new headline and an edited sentence or two
stay above it (≈ 0.8 in the demo corpus), a report that reuses the lede but adds its own reporting
falls well below."""


@dataclass(frozen=True, slots=True)
class TopicFact:
    """A topic of a story: its best-scoring article's match."""

    topic: str
    category: str
    score: float
    threshold: float
    modality: str | None
    article_id: str
    explanation: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story after an article joined it: the input of scoring and alert decisions."""

    story_id: str
    headline: str
    url: str | None
    first_seen: datetime
    last_seen: datetime
    articles: int
    sources: tuple[str, ...]
    independent_sources: tuple[str, ...]
    tiers: tuple[str, ...]
    topics: tuple[TopicFact, ...]
    actors: tuple[ActorRef, ...]
    surge: Surge | None = None
    """Set once the story's sources came in faster than usual for its kind (pipeline/breaking.py)."""

    @property
    def actor_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.actors)


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """The little of an article a story needs."""

    article_id: str
    story_id: str
    title: str
    url: str | None
    source_id: str
    tier: str
    event_time: datetime


@dataclass(slots=True)
class _Facts:
    headline: str
    url: str | None
    first_seen: datetime
    last_seen: datetime
    articles: dict[int, bool] = field(default_factory=dict)  # article id hash -> syndicated
    sources: set[str] = field(default_factory=set)
    independent: dict[str, int] = field(default_factory=dict)
    """Independent source -> event time (epoch seconds: a quarter of a datetime's state) of its first
    report in the story."""
    tiers: set[str] = field(default_factory=set)
    topics: dict[str, TopicFact] = field(default_factory=dict)
    actors: dict[str, ActorRef] = field(default_factory=dict)
    surge: Surge | None = None


def topic_facts(article_id: str, explained_topics: list[dict[str, Any]]) -> list[TopicFact]:
    """One fact per matched topic from the classifier's explanation (``Classification.to_dict()``), which
    an article document stores, so facts rebuilt from Elasticsearch equal the ones first computed."""
    return [
        TopicFact(t["topic"], t["category"], t["score"], t["threshold"], t.get("modality"), article_id, t)
        for t in explained_topics
    ]


class StoryBook:
    """Story facts by story id; an article counts once however often it is replayed."""

    def __init__(self) -> None:
        self._stories: dict[str, _Facts] = {}

    def __len__(self) -> int:
        return len(self._stories)

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._stories

    def add(
        self,
        item: ArticleRef,
        facts: list[TopicFact],
        actors: list[ActorRef],
        syndicated: bool,
    ) -> StoryView:
        """Record the article in its story (a no-op for one already counted) and return the story."""
        story = self._stories.get(item.story_id)
        if story is None:
            story = _Facts(item.title, item.url, item.event_time, item.event_time)
            self._stories[item.story_id] = story
        key = stable_hash(item.article_id)
        if key not in story.articles:
            story.articles[key] = syndicated
            story.first_seen = min(story.first_seen, item.event_time)
            story.last_seen = max(story.last_seen, item.event_time)
            story.sources.add(item.source_id)
            if not syndicated:
                at = int(item.event_time.timestamp())
                story.independent[item.source_id] = min(story.independent.get(item.source_id, at), at)
            story.tiers.add(item.tier)
            for fact in facts:
                best = story.topics.get(fact.topic)
                if best is None or fact.score > best.score:
                    story.topics[fact.topic] = fact
            for actor in actors:
                story.actors.setdefault(actor.id, actor)
        return self.view(item.story_id)

    def view(self, story_id: str) -> StoryView:
        f = self._stories[story_id]
        return StoryView(
            story_id=story_id,
            headline=f.headline,
            url=f.url,
            first_seen=f.first_seen,
            last_seen=f.last_seen,
            articles=len(f.articles),
            sources=tuple(sorted(f.sources)),
            independent_sources=tuple(sorted(f.independent)),
            tiers=tuple(sorted(f.tiers)),
            topics=tuple(sorted(f.topics.values(), key=lambda t: t.topic)),
            actors=tuple(f.actors[k] for k in sorted(f.actors)),
            surge=f.surge,
        )

    def arrivals(self, story_id: str) -> list[datetime]:
        """When each independent source first reported the story."""
        return [datetime.fromtimestamp(t, UTC) for t in self._stories[story_id].independent.values()]

    def is_independent(self, story_id: str, source_id: str) -> bool:
        facts = self._stories.get(story_id)
        return facts is not None and source_id in facts.independent

    def mark_breaking(self, story_id: str, surge: Surge) -> None:
        """The first surge that made the story breaking stays its reason."""
        facts = self._stories[story_id]
        if facts.surge is None:
            facts.surge = surge

    def merge(self, absorbed: str, survivor: str) -> None:
        """Fold `absorbed`'s facts into `survivor`'s (one event that began as two stories)."""
        gone = self._stories.pop(absorbed, None)
        story = self._stories.get(survivor)
        if gone is None or story is None:
            return
        if gone.first_seen < story.first_seen:
            story.headline, story.url = gone.headline, gone.url
        story.first_seen = min(story.first_seen, gone.first_seen)
        story.last_seen = max(story.last_seen, gone.last_seen)
        story.articles.update(gone.articles)
        story.sources |= gone.sources
        for source, first in gone.independent.items():
            story.independent[source] = min(first, story.independent.get(source, first))
        if story.surge is None:
            story.surge = gone.surge
        story.tiers |= gone.tiers
        for fact in gone.topics.values():
            best = story.topics.get(fact.topic)
            if best is None or fact.score > best.score:
                story.topics[fact.topic] = fact
        for actor_id, actor in gone.actors.items():
            story.actors.setdefault(actor_id, actor)

    def syndicated(self, story_id: str, article_id: str) -> bool | None:
        """Whether a counted article was a syndicated copy; None if the story has not counted it."""
        facts = self._stories.get(story_id)
        return None if facts is None else facts.articles.get(stable_hash(article_id))

    def state_bytes(self) -> int:
        """Serialised size of every story's facts (pickle: what a state backend would store)."""
        return len(pickle.dumps(self._stories, protocol=pickle.HIGHEST_PROTOCOL))

    def forget(self, story_ids: list[str]) -> None:
        for story_id in story_ids:
            self._stories.pop(story_id, None)
