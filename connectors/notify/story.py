"""What a destination was told about a story, and whether its latest alerts are worth telling again.

With story granularity a destination hears about a story once, with all of its topics in one message.
After that it hears again only on a *material change* since the last message it received:
- ``new_topic``: a topic it was not told about (the first message is ``new_story``);
- ``modality``: a topic's modality changed, for example from planned or possible to actual;
- ``severity_up``: the story's severity (its highest topic's) reached a higher band;
- ``corroborated``: the independent sources reached the next of the pipeline's steps (2, 3, 5).

Anything else only updates what is remembered, and the next message shows it: a new actor, more
syndicated copies, a lower severity, or a topic's severity rising below the story's own. Comparing
with the last message *delivered*, not with the last alert seen, means a change the destination
never heard about (its message was dead-lettered) is still news at the next alert.

One `StoryState` per (destination, story) lives on the compacted state topic: a line per topic,
the story's counts and actors, and what was last told. It stays small and is forgotten
`story_ttl_hours` after the story's last alert.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pipeline.alerting import CORROBORATION_STEPS
from pipeline.breaking import Surge
from schemas.alert import AlertDoc, Severity
from schemas.article import ActorRef
from schemas.notify import SEVERITY_ORDER, severity_at_least

ChangeKind = Literal["new_story", "new_topic", "breaking", "modality", "severity_up", "corroborated"]
Decision = Literal["not_material", "digested", "send"]


class TopicLine(BaseModel):
    """A topic's latest alert revision routed to the destination."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str
    revision: int = Field(ge=1)
    severity: Severity
    score: float
    modality: str | None = None


class Told(BaseModel):
    """What the last delivered story message said: the baseline of the next material change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: int = Field(ge=1, description="Story messages delivered so far.")
    topics: dict[str, str | None] = Field(description="Topic → modality.")
    severity: Severity
    independent_sources: int
    breaking: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    text: str


class StoryState(BaseModel):
    """Value of ``notify:story:<destination>:<story_id>`` on the state topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    story_id: str
    headline: str
    url: str | None = None
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    articles: int
    source_count: int
    independent_sources: int
    actors: tuple[ActorRef, ...] = ()
    breaking: str | None = Field(default=None, description="Why the story is breaking, once it was marked.")
    topics: dict[str, TopicLine]
    told: Told | None = None
    digest: bool = Field(default=False, description="A material change waits for the digest.")
    resolved: bool = Field(
        default=False, description="PagerDuty: its incident was resolved (the story was snoozed for good)."
    )
    updated: AwareDatetime = Field(description="When an alert last changed it; the clock of expiry.")

    @property
    def severity(self) -> Severity:
        return max((line.severity for line in self.topics.values()), key=SEVERITY_ORDER.index)

    def knows(self, alert: AlertDoc) -> bool:
        """Whether this revision (or a later one) of the alert's topic is already in: a duplicate."""
        line = self.topics.get(alert.watchfloor.topic)
        return line is not None and line.revision >= alert.watchfloor.revision

    def changes(self) -> list[Change]:
        """The material changes since the last delivered message; none means nothing to send."""
        told = self.told
        if told is None:
            return [Change("new_story", "new story")]
        found = []
        if self.breaking and not told.breaking:
            found.append(Change("breaking", f"breaking: {self.breaking}"))
        for topic, line in sorted(self.topics.items()):
            if topic not in told.topics:
                found.append(Change("new_topic", f"new topic {topic}"))
            elif line.modality != told.topics[topic]:
                before, after = (_modality(m) for m in (told.topics[topic], line.modality))
                found.append(Change("modality", f"{topic} now {after} (was {before})"))
        if SEVERITY_ORDER.index(self.severity) > SEVERITY_ORDER.index(told.severity):
            found.append(Change("severity_up", f"severity {told.severity} → {self.severity}"))
        if _steps(self.independent_sources) > _steps(told.independent_sources):
            found.append(
                Change(
                    "corroborated",
                    f"{self.independent_sources} independent sources (were {told.independent_sources})",
                )
            )
        return found

    def delivered(self) -> StoryState:
        """The state once its message reached the destination: that message is the new baseline."""
        told = Told(
            messages=(self.told.messages if self.told else 0) + 1,
            topics={topic: line.modality for topic, line in self.topics.items()},
            severity=self.severity,
            independent_sources=self.independent_sources,
            breaking=self.breaking is not None,
        )
        return self.model_copy(update={"told": told, "digest": False})

    @property
    def message_id(self) -> str:
        """The idempotency key of a message showing this state: from the story and the alert revisions
        it covers, so a restart that re-reads the same alerts sends the same id, and any newer alert
        makes a new one."""
        ids = sorted(line.alert_id for line in self.topics.values())
        return "story-" + hashlib.sha256("\x00".join([self.story_id, *ids]).encode()).hexdigest()[:24]

    def expired(self, now: datetime, ttl: timedelta) -> bool:
        return now - self.updated > ttl

    def paged(self) -> bool:
        """Whether an incident is open for it at a PagerDuty destination: a message went, none resolved it."""
        return self.told is not None and not self.resolved


def fold(state: StoryState | None, alert: AlertDoc, now: datetime) -> StoryState:
    """`state` with `alert` in it (callers skip the alerts it `knows`): the alert's topic line, and the
    story's headline, counts and actors when the alert is the latest word on the story."""
    w = alert.watchfloor
    line = TopicLine(
        alert_id=w.alert_id, revision=w.revision, severity=w.severity, score=w.score, modality=w.modality
    )
    topics = {**(state.topics if state else {}), w.topic: line}
    breaking = state.breaking if state else None
    if w.surge is not None:
        s = w.surge
        breaking = Surge(s.sources, s.window_s, s.baseline, s.kind, s.at).describe()
    if state is not None and state.last_seen > w.last_seen:
        return state.model_copy(update={"topics": topics, "breaking": breaking, "updated": now})
    return StoryState(
        story_id=w.story_id,
        headline=w.headline,
        url=alert.url.full if alert.url else None,
        first_seen=w.first_seen,
        last_seen=w.last_seen,
        articles=w.articles,
        source_count=w.source_count,
        independent_sources=w.independent_sources,
        actors=tuple(w.actors),
        breaking=breaking,
        topics=topics,
        told=state.told if state else None,
        digest=state.digest if state else False,
        updated=now,
    )


def decide(state: StoryState, digest_below: Severity | None) -> tuple[Decision, StoryState]:
    """What becomes of a story once its latest alerts are folded in, and its state afterwards: nothing
    material to tell (and so nothing waiting for the digest either, should an earlier change have been
    undone), a material change below the digest's severity (it waits for the digest), or one to send
    now (the digest no longer needs to carry it once sent)."""
    if not state.changes():
        return "not_material", state.model_copy(update={"digest": False})
    if digest_below is not None and not severity_at_least(state.severity, digest_below):
        return "digested", state.model_copy(update={"digest": True})
    return "send", state


def _steps(independent: int) -> int:
    """How many corroboration steps `independent` sources have reached."""
    return sum(independent >= step for step in CORROBORATION_STEPS)


def _modality(value: str | None) -> str:
    return value.replace("_", " ") if value else "unknown"
