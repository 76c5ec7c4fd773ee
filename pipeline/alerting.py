"""Alert decisions: one alert per (story, topic), a new revision only on a material change.

Fifty outlets carrying one wire story must wake an analyst once per topic, so a story re-alerts only
when something an analyst would act on changed: a new topic (its own first alert), the story turning
breaking (pipeline/breaking.py), a higher severity band, independent corroboration crossing a step, or a
new actor. The ledger remembers the last
revision issued per (story, topic); it is rebuilt from ``watchfloor-alerts`` after a restart
(docs/adr/0003-pipeline-state.md), so revisions continue instead of starting over.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from pipeline.scoring import SEVERITIES, ScoringParams, SeverityScore, Watchlist, score_topic
from pipeline.stories import StoryView, TopicFact
from schemas.alert import AlertDetails, AlertDoc, AlertEvent, AlertRule, AlertSurge, AlertUrl
from schemas.article import alert_id

CORROBORATION_STEPS = (2, 3, 5)
"""Independent-source counts whose crossing is news: confirmed by a second, a third, a fifth outlet."""


@dataclass(frozen=True, slots=True)
class _Issued:
    packed: bytes
    """The document as compressed JSON: only a replay reads it (to re-send), so the state holds about
    2/5 of the pickled model (its explanation is most of it; ADR 0006, Costs)."""
    revision: int
    rank: int
    independent: int
    actor_ids: frozenset[str]
    breaking: bool = False

    @property
    def doc(self) -> AlertDoc:
        return AlertDoc.model_validate_json(zlib.decompress(self.packed))


def _crossed(before: int, after: int) -> bool:
    return any(before < step <= after for step in CORROBORATION_STEPS)


class AlertLedger:
    """The last alert issued per (story, topic), and the decision whether a story update is material."""

    def __init__(
        self,
        topic_weights: Mapping[str, float],
        watchlist: Watchlist,
        params: ScoringParams = ScoringParams(),
    ) -> None:
        self.topic_weights = dict(topic_weights)
        self.watchlist = watchlist
        self.params = params
        self._issued: dict[tuple[str, str], _Issued] = {}

    def __len__(self) -> int:
        return len(self._issued)

    def decide(self, story: StoryView, now: datetime) -> list[AlertDoc]:
        """New alert revisions for `story` (usually none); each is recorded as issued."""
        alerts = []
        for fact in story.topics:
            severity = score_topic(
                fact,
                topic_weight=self.topic_weights.get(fact.topic, 0.5),
                story=story,
                now=now,
                watchlist=self.watchlist,
                params=self.params,
            )
            previous = self._issued.get((story.story_id, fact.topic))
            reason = self._reason(story, severity, previous)
            if reason is None:
                continue
            revision = 1 if previous is None else previous.revision + 1
            doc = build_alert(story, fact, severity, revision=revision, reason=reason, now=now)
            self.record(doc)
            alerts.append(doc)
        return alerts

    def _reason(self, story: StoryView, severity: SeverityScore, previous: _Issued | None) -> str | None:
        if previous is None:
            return "new_story" if story.articles == 1 else "new_topic"
        if story.surge is not None and not previous.breaking:
            return "breaking"  # once: previous.breaking says an earlier revision already carried the surge
        if severity.rank > previous.rank:
            return "severity_up"
        if _crossed(previous.independent, len(story.independent_sources)):
            return "corroborated"
        if set(story.actor_ids) - previous.actor_ids:
            return "new_actor"
        return None

    def record(self, doc: AlertDoc) -> None:
        """Remember `doc` as the latest revision of its (story, topic) unless a later one is known."""
        w = doc.watchfloor
        key = (w.story_id, w.topic)
        known = self._issued.get(key)
        if known is not None and known.revision >= w.revision:
            return
        self._issued[key] = _Issued(
            zlib.compress(doc.model_dump_json(by_alias=True).encode()),
            w.revision,
            SEVERITIES.index(w.severity),
            w.independent_sources,
            frozenset(w.actor_ids),
            w.surge is not None,
        )

    def merge(self, absorbed: str, survivor: str) -> None:
        """Carry `absorbed`'s alerts over to `survivor` for topics it has not alerted on, so merging two
        stories of one event does not alert again for what the analyst was already told."""
        for key in sorted(k for k in self._issued if k[0] == absorbed):
            issued = self._issued.pop(key)
            self._issued.setdefault((survivor, key[1]), issued)

    def latest(self, story_id: str) -> list[AlertDoc]:
        """The current revision of each of the story's alerts (what a replay re-sends)."""
        return [i.doc for (sid, _), i in sorted(self._issued.items()) if sid == story_id]

    def state_bytes(self) -> int:
        """Serialised size of the issued alerts kept (pickle: what a state backend would store)."""
        return len(pickle.dumps(self._issued, protocol=pickle.HIGHEST_PROTOCOL))

    def forget(self, story_ids: Iterable[str]) -> None:
        gone = set(story_ids)
        for key in [k for k in self._issued if k[0] in gone]:
            del self._issued[key]


def build_alert(
    story: StoryView, fact: TopicFact, severity: SeverityScore, *, revision: int, reason: str, now: datetime
) -> AlertDoc:
    """The ECS-shaped alert document; its id is deterministic from (story, topic, revision)."""
    aid = alert_id(story.story_id, fact.topic, revision)
    modality = f", {fact.modality.replace('_', ' ')}" if fact.modality else ""
    people = [a.name for a in story.actors if a.type == "person"][:3]
    surge = story.surge
    breaking = severity.factors.get("breaking", 1.0) > 1
    message = (
        ("BREAKING " if breaking else "")
        + f"[{severity.label}] {fact.topic.replace('_', ' ')}{modality}: {story.headline}"
        f" — {_count(len(story.sources), 'source')} ({len(story.independent_sources)} independent)"
        + (f"; {', '.join(people)}" if people else "")
        + (f" — {surge.describe()}" if breaking and surge else "")
    )
    url = None
    if story.url:
        url = AlertUrl(full=story.url, domain=urlsplit(story.url).hostname or "")
    return AlertDoc(
        **{"@timestamp": now},
        message=message,
        tags=["watchfloor", fact.topic, severity.label],
        event=AlertEvent(category="threat", severity=severity.score, created=now, id=aid),
        rule=AlertRule(name=fact.topic, category=fact.category, id=fact.topic),
        url=url,
        watchfloor=AlertDetails(
            alert_id=aid,
            story_id=story.story_id,
            topic=fact.topic,
            revision=revision,
            severity=severity.label,
            score=severity.score,
            modality=fact.modality,
            headline=story.headline,
            first_seen=story.first_seen,
            last_seen=story.last_seen,
            articles=story.articles,
            sources=list(story.sources),
            source_count=len(story.sources),
            independent_sources=len(story.independent_sources),
            tiers=list(story.tiers),
            actor_ids=list(story.actor_ids),
            actors=list(story.actors),
            reason=reason,
            breaking=breaking,
            surge=None
            if surge is None
            else AlertSurge(
                sources=surge.sources,
                window_s=surge.window_s,
                baseline=surge.baseline,
                ratio=round(surge.ratio, 2),
                kind=surge.kind,
                at=surge.at,
            ),
            explanation={
                "severity": {"arithmetic": severity.arithmetic, "factors": severity.factors},
                "topic": {"article_id": fact.article_id, **fact.explanation},
            },
        ),
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
