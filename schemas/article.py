"""Documents the pipeline writes to Elasticsearch; field names match ``schemas/es/*.json`` (strict).

ECS where ECS has the field (``@timestamp``, ``url.*``), Watchfloor's own namespace (``watchfloor.*``)
for the feed and the exact copies, so a Kibana data view over articles and alerts has no conflicting
field (docs/adr/0009-ecs-alignment.md).

Ids (ADR 0002): ``article_id`` is the ``item_id`` of the first copy seen (exact duplicates collapse into
it), ``story_id`` comes from the first article of a story, ``alert_id`` from (story_id, topic, revision).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.feed import SourceTier
from schemas.item import FeedItem, ItemSource


def alert_id(story_id: str, topic: str, revision: int) -> str:
    return hashlib.sha256(f"{story_id}\x00{topic}\x00{revision}".encode()).hexdigest()[:32]


def story_id_for(first_article_id: str) -> str:
    return "st-" + hashlib.sha256(first_article_id.encode()).hexdigest()[:20]


class TopicScore(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str
    score: float


class ActorRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="ISO 3166-1 alpha-3 for a country, 'person:<slug>' for a person.")
    name: str
    type: str
    country: str | None = None

    def __reduce__(self) -> tuple[Any, tuple[str, str, str, str | None]]:
        """Pickled as its four values: a story's state holds many actors, and Beam pickles every
        article's between steps; the default (the model's dict, fields set, extras) is three times as big."""
        return _actor_ref, (self.id, self.name, self.type, self.country)


def _actor_ref(id: str, name: str, type: str, country: str | None) -> ActorRef:
    return ActorRef(id=id, name=name, type=type, country=country)


class ArticleUrl(BaseModel):
    """ECS ``url``: the canonical link (``full``), the feed's own spelling if it differs (``original``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    full: str
    original: str | None = None
    domain: str
    path: str | None = None
    scheme: str | None = None

    @classmethod
    def of(cls, item: FeedItem) -> ArticleUrl | None:
        if item.url is None:
            return None
        parts = urlsplit(item.url)
        original = item.original_url if item.original_url != item.url else None
        return cls(
            full=item.url,
            original=original,
            domain=parts.hostname or "",
            path=parts.path or "/",
            scheme=parts.scheme,
        )


class FeedRef(BaseModel):
    """``watchfloor.feed``: the outlet's feed, from the registry (ECS ``source.*`` is a network peer)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    tier: SourceTier
    country: str | None = None
    domain: str = Field(description="The publisher's host (the link's, else the feed's).")

    @classmethod
    def of(cls, source: ItemSource) -> FeedRef:
        return cls(id=source.feed_id, **source.model_dump(exclude={"feed_id"}))


COPIES_KEPT = 20
"""Exact copies an article lists: enough to find a wire story by any outlet's link, bounded per document."""


class ArticleCopy(BaseModel):
    """An exact copy (same canonical link or content hash) from another feed, dropped by dedup."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str
    feed_id: str
    url: str | None = None
    seen: AwareDatetime = Field(description="When the copy was fetched.")


class ArticleDetails(BaseModel):
    """``watchfloor.*`` of an article: where it came from, and who else carried it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feed: FeedRef
    copies: list[ArticleCopy] = Field(default_factory=list, max_length=COPIES_KEPT)


class ArticleDoc(BaseModel):
    """``watchfloor-articles``: one deduplicated article, ``_id`` = article_id."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    timestamp: AwareDatetime = Field(alias="@timestamp")
    article_id: str
    story_id: str
    url: ArticleUrl | None = None
    title: str
    summary: str = ""
    content: str = ""
    language: str
    published: AwareDatetime | None = None
    updated: AwareDatetime | None = None
    fetched: AwareDatetime
    content_hash: str
    watchfloor: ArticleDetails
    topics: list[str] = Field(default_factory=list)
    topic_scores: list[TopicScore] = Field(default_factory=list)
    actors: list[ActorRef] = Field(default_factory=list)
    actor_ids: list[str] = Field(default_factory=list)
    modality: str | None = None
    syndicated: bool = Field(
        default=False, description="A near-verbatim copy of its story's text: not independent corroboration."
    )
    merged_stories: list[str] = Field(
        default_factory=list,
        description="Stories this article showed to report its story's event too, merged into story_id.",
    )
    explanation: dict[str, Any] = Field(default_factory=dict)

    @property
    def feed(self) -> FeedRef:
        return self.watchfloor.feed

    @property
    def link(self) -> str | None:
        """The canonical link, as dedup keys it."""
        return self.url.full if self.url else None

    def to_es(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
