"""Documents the pipeline writes to Elasticsearch; field names match ``schemas/es/*.json`` (strict).

Ids (ADR 0002): ``article_id`` is the ``item_id`` of the first copy seen (exact duplicates collapse into
it), ``story_id`` comes from the first article of a story, ``alert_id`` from (story_id, topic, revision).
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.item import ItemSource


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


class ArticleDoc(BaseModel):
    """``watchfloor-articles``: one deduplicated article, ``_id`` = article_id."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    timestamp: AwareDatetime = Field(alias="@timestamp")
    article_id: str
    story_id: str
    feed_id: str
    url: str | None = None
    title: str
    summary: str = ""
    content: str = ""
    language: str
    published: AwareDatetime | None = None
    updated: AwareDatetime | None = None
    fetched: AwareDatetime
    content_hash: str
    source: ItemSource
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

    def to_es(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
