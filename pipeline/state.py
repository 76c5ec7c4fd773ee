"""The streaming job's working memory: seen dedup keys, stories, story facts and issued alerts.

One `PipelineState` per job run and worker process, shared by the stateful steps' DoFn instances
(docs/adr/0003-pipeline-state.md). It is a cache of what the job already wrote: at start-up it is
rebuilt from ``watchfloor-articles`` and ``watchfloor-alerts``, so a restarted job continues its
stories and alert revisions. Everything is bounded by event time: keys older than the dedup window,
stories older than the cluster TTL (and their facts and alerts) are dropped as the event clock — the
newest item time seen, never ahead of fetch time — moves on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.alerting import AlertLedger
from pipeline.articles import Analysis, article_ref, cluster_doc
from pipeline.cluster import ClusterDoc, ClusterParams, StoryIndex
from pipeline.dedup import DEFAULT_WINDOW, ExactDeduper, dedup_keys_of
from pipeline.linking import EventLinks, event_keys
from pipeline.stories import SYNDICATION_THRESHOLD, ArticleRef, StoryBook, StoryView, topic_facts
from schemas.alert import AlertDoc
from schemas.article import ArticleDoc
from schemas.item import FeedItem

EXPIRE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Placed:
    """An article placed in its story."""

    story: StoryView
    syndicated: bool
    replay: bool
    linked: bool = False
    """Joined by its event, not its text (pipeline/linking.py)."""


@dataclass
class PipelineState:
    ledger: AlertLedger
    cluster: ClusterParams = field(default_factory=ClusterParams)
    dedup_window: timedelta = DEFAULT_WINDOW
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.dedup = ExactDeduper(self.dedup_window)
        self.stories = StoryIndex(self.cluster)
        self.book = StoryBook()
        self.links = EventLinks()
        self.clock: datetime | None = None
        self._expired_at: datetime | None = None

    def observe(self, event_time: datetime) -> None:
        """Advance the event clock; every `EXPIRE_EVERY` of event time, drop what fell out of the windows."""
        if self.clock is None or event_time > self.clock:
            self.clock = event_time
        if self._expired_at is None:
            self._expired_at = self.clock
        elif self.clock - self._expired_at >= EXPIRE_EVERY:
            self.expire(self.clock)

    def expire(self, watermark: datetime) -> None:
        self._expired_at = watermark
        self.dedup.expire(watermark)
        gone = self.stories.expire(watermark)
        self.book.forget(gone)
        self.ledger.forget(gone)
        self.links.forget(gone)

    def deduplicate(self, item: FeedItem) -> str | None:
        """None for a new item, "id" for a replay of one seen before, "url"/"hash" for a duplicate."""
        with self.lock:
            self.observe(min(item.event_time, item.fetched))
            return self.dedup.seen(item)

    def assign(self, item: FeedItem, analysis: Analysis) -> Placed:
        """Put the article in its story; a replayed article gets its first placement back."""
        with self.lock:
            keys = event_keys(analysis.topics, analysis.actors)
            linked = self.links.find(keys, item.event_time) if keys else None
            assignment = self.stories.assign(cluster_doc(item), linked)
            known = self.book.syndicated(assignment.story_id, item.item_id)
            syndicated = (
                known
                if known is not None
                else not assignment.is_new_story and assignment.body_similarity >= SYNDICATION_THRESHOLD
            )
            facts = topic_facts(item.item_id, list(analysis.topics))
            view = self.book.add(
                article_ref(item, assignment.story_id), facts, list(analysis.actors), syndicated
            )
            self.links.record(keys, view.story_id, view.first_seen)
            return Placed(view, syndicated=syndicated, replay=known is not None, linked=assignment.linked)

    def decide(self, placed: Placed) -> list[AlertDoc]:
        """Alert revisions the article makes material, plus, for a replay, the story's current ones (whose
        earlier writes may not have finished; ids make resending harmless)."""
        with self.lock:
            story_id = placed.story.story_id
            view = self.book.view(story_id) if story_id in self.book else placed.story
            alerts = self.ledger.decide(view, self.clock or view.last_seen)
            if placed.replay:
                fresh = {a.watchfloor.alert_id for a in alerts}
                alerts += [a for a in self.ledger.latest(story_id) if a.watchfloor.alert_id not in fresh]
            return alerts

    def restore(self, articles: Iterable[ArticleDoc], alerts: Iterable[AlertDoc]) -> tuple[int, int]:
        """Rebuild from what the job wrote before (articles in the order first processed); returns counts."""
        n_articles = n_alerts = 0
        for doc in articles:
            n_articles += 1
            when = doc.timestamp
            self.dedup.remember(dedup_keys_of(doc.article_id, doc.url, doc.content_hash), when)
            self.stories.restore(
                ClusterDoc(
                    doc.article_id, doc.title, doc.content or doc.summary, doc.feed_id, doc.source.tier, when
                ),
                doc.story_id,
            )
            ref = ArticleRef(
                doc.article_id, doc.story_id, doc.title, doc.url, doc.feed_id, doc.source.tier, when
            )
            topics = doc.explanation.get("topics", [])
            view = self.book.add(ref, topic_facts(doc.article_id, topics), doc.actors, doc.syndicated)
            self.links.record(event_keys(topics, doc.actors), doc.story_id, view.first_seen)
            self.observe(min(when, doc.fetched))
        for alert in alerts:
            if alert.watchfloor.story_id in self.book:
                n_alerts += 1
                self.ledger.record(alert)
        return n_articles, n_alerts
