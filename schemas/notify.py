"""Notifier configuration (deploy/notify.yaml): destinations, routing rules, digests, limits.

Secrets never appear in the file: a destination names the environment variables that hold its URL,
signing key or routing key (`url_env`, `secret_env`), read as `SecretStr` when the notifier starts.
"""

from __future__ import annotations

import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.alert import Severity

DestinationKind = Literal["webhook", "slack", "teams", "pagerduty"]
Granularity = Literal["story", "topic"]
SEVERITY_ORDER: tuple[Severity, ...] = ("low", "medium", "high", "critical")


class Route(BaseModel):
    """Which alerts a destination gets; every given condition must hold, an empty one matches all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: tuple[str, ...] = ()
    min_severity: Severity = "low"
    actors: tuple[str, ...] = Field(default=(), description="Actor ids (ISO3 or person:<id>), any of.")
    countries: tuple[str, ...] = Field(
        default=(), description="ISO3 codes of countries involved, any of (a person counts for theirs)."
    )
    tiers: tuple[str, ...] = Field(default=(), description="Source tiers, any of.")


class Digest(BaseModel):
    """Collect alerts below `below` severity and send them as one message every `every_minutes`. With
    story granularity the digest lists stories, and a story's severity is its highest topic's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    every_minutes: float = Field(default=15, gt=0)
    below: Severity = Field(
        default="high", description="Alerts (or stories) of lower severity wait for the digest."
    )


class OpsRoute(BaseModel):
    """Where operational alerts (a feed or tier silent, a feed failing; schemas/opsalert.py) go, and
    their clears. By default every destination, the low-severity ones (a national or regional feed)
    in an hourly digest, wire-tier feeds and whole tiers at once. PagerDuty destinations take only
    what is not digested, and resolve the incident when it clears."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    destinations: tuple[str, ...] = Field(default=(), description="Destination ids; empty: every one.")
    min_severity: Severity = "low"
    digest: Digest | None = Field(default_factory=lambda: Digest(every_minutes=60, below="medium"))


class Destination(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
    kind: DestinationKind
    url_env: str = Field(description="Environment variable holding the endpoint URL (a secret).")
    secret_env: str | None = Field(
        default=None,
        description="Environment variable with the signing key (webhook, 'whsec_…') or routing key "
        "(pagerduty).",
    )
    route: Route = Route()
    granularity: Granularity = Field(
        default="story",
        description="'story': one message per story, then an update only on a material change (a new "
        "topic, a modality change, a higher severity, independent corroboration reaching 2, 3 or 5); "
        "'topic': one message per alert revision, per story and topic.",
    )
    coalesce_s: float = Field(
        default=5,
        ge=0,
        le=60,
        description="Story granularity: a story's first alert waits this long for the rest of its story "
        "(the pipeline issues a story's topics moments apart), so they make one message. Ignored with "
        "granularity 'topic'.",
    )
    template: str | None = Field(
        default=None,
        description="Headline template: {severity}, {topic}, {headline}, {sources}, {actors}, {story_id}.",
    )
    digest: Digest | None = None
    rate_per_minute: float = Field(default=60, gt=0)
    timeout_s: float = Field(default=10, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    max_backoff_s: float = Field(default=300, gt=0)
    breaker_failures: int = Field(default=5, ge=1, description="Consecutive failures that open the circuit.")
    breaker_cooldown_s: float = Field(default=60, gt=0)

    @model_validator(mode="after")
    def _secrets_present(self) -> Destination:
        if self.kind in ("webhook", "pagerduty") and not self.secret_env:
            raise ValueError(f"destination {self.id}: a {self.kind} destination needs secret_env")
        return self

    @model_validator(mode="after")
    def _no_pagerduty_digest(self) -> Destination:
        """A PagerDuty event is one incident; a digest of several stories has no single one to page."""
        if self.kind == "pagerduty" and self.digest is not None:
            raise ValueError(f"destination {self.id}: a pagerduty destination cannot have a digest")
        return self

    @field_validator("template")
    @classmethod
    def _template_formats(cls, value: str | None) -> str | None:
        """Fail when the config loads, not at the first alert: only the documented keys (no attribute or
        index access into them), and the template must format with sample values."""
        if value is None:
            return value
        sample = {
            "severity": "high",
            "topic": "t",
            "headline": "h",
            "sources": 1,
            "actors": "a",
            "story_id": "s",
        }
        keys = ", ".join(f"{{{key}}}" for key in sample)
        try:
            unknown = [
                f for _, f, _, _ in string.Formatter().parse(value) if f is not None and f not in sample
            ]
            if unknown:
                raise ValueError(f"unknown keys {unknown}")
            value.format(**sample)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"template: {exc}; the keys are {keys}") from None
        return value


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kibana_url: str = Field(
        default="http://127.0.0.1:5601", description="Base URL for the Discover links in every alert."
    )
    destinations: tuple[Destination, ...] = Field(min_length=1)
    story_ttl_hours: float = Field(
        default=7 * 24,
        gt=0,
        description="How long the notifier remembers what it told a destination about a story after the "
        "story's last alert (story granularity); a story that alerts again later counts as new.",
    )

    ops: OpsRoute = Field(default_factory=OpsRoute, description="Routing of operational alerts.")

    @model_validator(mode="after")
    def _ops_destinations_exist(self) -> NotifyConfig:
        unknown = sorted(set(self.ops.destinations) - {d.id for d in self.destinations})
        if unknown:
            raise ValueError(f"ops.destinations: no such destinations {unknown}")
        return self

    @field_validator("destinations")
    @classmethod
    def _unique_ids(cls, value: tuple[Destination, ...]) -> tuple[Destination, ...]:
        ids = [d.id for d in value]
        if len(ids) != len(set(ids)):
            raise ValueError(f"destination ids must be unique: {ids}")
        return value


def severity_at_least(severity: str, floor: str) -> bool:
    return SEVERITY_ORDER.index(severity) >= SEVERITY_ORDER.index(floor)
