"""An operational alert: a feed (or a whole source tier) that went silent beyond its learned cadence,
or keeps failing. Raised and cleared by the ingester, delivered by the notifier.

Kafka topic ``watchfloor.ops-alerts``, key = ``ops_id`` (so an alert's firing and its clear stay in
order on one partition). Unlike a news alert it is about Watchfloor's own sources, so it has no story.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.alert import Severity

OpsKind = Literal["feed_silent", "feed_failing", "tier_silent"]
OpsStatus = Literal["firing", "cleared"]


class OpsAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ops_id: str = Field(
        description="One episode of one condition: `<kind>:<subject>:<since>`; a clear carries the id of "
        "what it clears (PagerDuty's dedup_key)."
    )
    kind: OpsKind
    status: OpsStatus
    severity: Severity = Field(description="low by default; raised for wire-tier feeds and whole tiers.")
    subject: str = Field(description="The feed id, or the tier for tier_silent.")
    tier: str
    since: AwareDatetime = Field(description="Last new item (silent) or last success (failing).")
    at: AwareDatetime = Field(description="When this status was decided.")
    message: str
    details: dict[str, str | float | int | None] = Field(default_factory=dict)

    @property
    def event_id(self) -> str:
        """The idempotency key of this status of the episode (a webhook-id)."""
        return f"{self.ops_id}:{self.status}"
