"""An alert per (story, topic, revision): ECS-shaped for Kibana, with Watchfloor's own namespace.

``watchfloor-alerts`` (``_id`` = alert_id) and Kafka ``watchfloor.alerts`` (key = story_id, so a
story's revisions stay in order on one partition) carry the same document; the notifier reads the
latter and deduplicates by alert_id.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.article import ActorRef

Severity = Literal["low", "medium", "high", "critical"]


class AlertEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["alert"] = "alert"
    category: str = "threat"  # ECS has no news category; "threat" is the closest allowed value
    severity: int = Field(ge=0, le=100)
    created: AwareDatetime
    id: str


class AlertRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The topic rule that fired, e.g. arms_transfer.")
    category: str
    id: str
    description: str = ""


class AlertUrl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: str
    domain: str


class AlertSurge(BaseModel):
    """Why a story is breaking: its sources came in faster than usual for its kind of news."""

    model_config = ConfigDict(extra="forbid")

    sources: int = Field(description="Independent sources gained within window_s.")
    window_s: int
    baseline: float = Field(description="The usual count for the story's topic and actors.")
    ratio: float
    kind: str = Field(description="topic|actor whose baseline applied ('*': any actor).")
    at: AwareDatetime


class AlertDetails(BaseModel):
    """The ``watchfloor.*`` namespace: what an analyst needs to act."""

    model_config = ConfigDict(extra="forbid")

    alert_id: str
    story_id: str
    topic: str
    revision: int = Field(ge=1)
    severity: Severity
    score: float
    modality: str | None = None
    headline: str
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    articles: int
    sources: list[str]
    source_count: int
    independent_sources: int = Field(
        ge=0, description="Distinct sources that are not syndicated copies of another's text."
    )
    tiers: list[str]
    actor_ids: list[str] = Field(default_factory=list)
    actors: list[ActorRef] = Field(default_factory=list)
    reason: str = Field(
        description="Why this revision: new_story, new_topic, breaking, severity_up, corroborated, new_actor."
    )
    breaking: bool = Field(default=False, description="The story is breaking now (severity raised).")
    surge: AlertSurge | None = Field(
        default=None, description="Why the story was marked breaking (kept after)."
    )
    explanation: dict[str, Any] = Field(default_factory=dict)


class AlertDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    timestamp: AwareDatetime = Field(alias="@timestamp")
    message: str
    tags: list[str] = Field(default_factory=list)
    event: AlertEvent
    rule: AlertRule
    url: AlertUrl | None = None
    watchfloor: AlertDetails

    def to_es(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
