"""The feed registry's record: one publisher feed, how to treat it, and how often to poll it."""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


class SourceTier(StrEnum):
    """What kind of publisher: corroboration counts independent tiers, not copies of one wire."""

    WIRE = "wire"
    STATE_MEDIA = "state_media"
    NATIONAL = "national"
    REGIONAL = "regional"
    OFFICIAL = "official"


class FeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable slug, e.g. 'yonhap-en-nk'; part of every item id.")
    url: str = Field(description="http(s) URL of the RSS/Atom document.")
    name: str
    language: str = Field(default="en", description="ISO 639-1 code of the feed's usual language.")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 of the publisher.")
    tier: SourceTier = SourceTier.NATIONAL
    tags: tuple[str, ...] = ()
    min_interval_s: int = Field(default=300, ge=30, description="Never poll more often than this.")
    max_interval_s: int = Field(default=3600, le=86400, description="Never poll less often than this.")
    enabled: bool = True
    disabled_reason: str | None = None

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("feed id must be a lower-case slug: [a-z0-9][a-z0-9._-]*, at most 80 characters")
        return value

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError(f"feed url must be http or https, not {parts.scheme or 'missing'!r}")
        if not parts.hostname:
            raise ValueError("feed url has no host")
        return value.strip()

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2}", value):
            raise ValueError("language must be an ISO 639-1 code such as 'en'")
        return value

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError("country must be an ISO 3166-1 alpha-2 code such as 'KR'")
        return value

    @model_validator(mode="after")
    def _interval_order(self) -> FeedConfig:
        if self.min_interval_s > self.max_interval_s:
            raise ValueError("min_interval_s must not exceed max_interval_s")
        return self


class RegistryFile(BaseModel):
    """One registry file (``deploy/feeds/*.yaml``), for its JSON Schema: ``load_registry`` validates the
    entries one by one (a bad entry never stops the others) and ignores other top-level keys."""

    feeds: list[FeedConfig] = Field(default_factory=list)
