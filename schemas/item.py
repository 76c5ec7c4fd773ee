"""FeedItem: one normalised entry of one feed, as published to Kafka ``watchfloor.items``.

The Kafka key is ``item_id``; the value is this model as JSON, with header ``schema-version``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.feed import SourceTier

ITEM_SCHEMA_VERSION: Final = 1


class ItemSource(BaseModel):
    """Where the item came from, copied from the registry so downstream needs no lookup."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feed_id: str
    name: str
    tier: SourceTier
    country: str | None = None
    domain: str = Field(description="Host of the item's canonical URL (publisher domain).")


class FeedItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = ITEM_SCHEMA_VERSION
    item_id: str = Field(description="Deterministic per feed: sha256 over feed id and id basis, hex[:32].")
    id_basis: Literal["guid", "link", "title_published"] = Field(description="The id ladder's rung used.")
    feed_id: str
    url: str | None = Field(description="Canonical link: lower-case host, no fragment or tracking params.")
    original_url: str | None = None
    guid: str | None = None
    title: str
    summary: str = Field(default="", description="Plain text (HTML removed).")
    content: str = Field(default="", description="Plain text of the full content when the feed carries it.")
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str = Field(description="ISO 639-1: the entry's, else the feed's, else detected.")
    published: AwareDatetime | None = None
    updated: AwareDatetime | None = None
    fetched: AwareDatetime
    source: ItemSource
    content_hash: str = Field(description="sha256 of normalised title + text: equal for identical copies.")
    feed_bozo: str | None = Field(default=None, description="Why feedparser flagged the feed, if it did.")

    @property
    def event_time(self) -> datetime:
        """When the item happened, as best known: published, else updated, else fetched."""
        return self.published or self.updated or self.fetched
