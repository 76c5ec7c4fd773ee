"""The streaming job's working memory: seen dedup keys, stories, story facts and issued alerts.

An article finds its story by its text first (near-copies, pipeline/cluster.py), else by what it names
(event clustering, pipeline/events.py); a report that matches two live stories merges them, the older
id surviving, and the article records the ids it absorbed (`ArticleDoc.merged_stories`) so a restart
replays the merge (docs/adr/0006-story-identity.md).

One `PipelineState` per state shard, owned by the keyed core step that uses it (pipeline/core.py,
docs/adr/0005-keyed-pipeline-state.md). It is a cache of what the job already wrote: on a shard's
first sight it is rebuilt from ``watchfloor-articles`` and ``watchfloor-alerts`` (ADR 0003), so a
restarted job continues its stories and alert revisions. Everything is bounded by event time: keys
older than the dedup window, stories older than the cluster TTL (and their facts and alerts) are
dropped as the event clock — the newest item time seen, never ahead of fetch time — moves on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.alerting import AlertLedger
from pipeline.articles import Analysis, article_ref, body, cluster_doc
from pipeline.breaking import SurgeDetector, kinds
from pipeline.classify.rules import load_rules
from pipeline.cluster import ClusterDoc, ClusterParams, StoryIndex
from pipeline.dedup import DEFAULT_WINDOW, ExactDeduper, dedup_keys_of
from pipeline.events import (
    EventIndex,
    EventParams,
    Features,
    digest,
    features,
    headline_kinds,
    speaker,
)
from pipeline.scoring import Watchlist
from pipeline.stories import SYNDICATION_THRESHOLD, ArticleRef, StoryBook, StoryView, TopicFact, topic_facts
from pipeline.textnorm import stable_hash
from schemas.alert import AlertDoc
from schemas.article import COPIES_KEPT, ActorRef, ArticleCopy, ArticleDoc
from schemas.item import FeedItem

EXPIRE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Placed:
    """An article placed in its story."""

    story: StoryView
    syndicated: bool
    replay: bool
    linked: bool = False
    """Joined by what it names, not its text (pipeline/events.py)."""
    merged: tuple[str, ...] = ()
    """Stories this article showed to be its story's event too, now merged into it."""


@dataclass
class PipelineState:
    ledger: AlertLedger
    cluster: ClusterParams = field(default_factory=ClusterParams)
    dedup_window: timedelta = DEFAULT_WINDOW
    event_params: EventParams = field(default_factory=EventParams)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.dedup = ExactDeduper(self.dedup_window)
        self.stories = StoryIndex(self.cluster)
        self.book = StoryBook()
        self.events = EventIndex(self.event_params)
        self.surges = SurgeDetector()
        self.copies: dict[str, tuple[ArticleCopy, ...]] = {}
        """Article id -> the exact copies it lists (``watchfloor.copies``), while its dedup keys live."""
        self.aliases: dict[str, str] = {}
        """Merged story id -> the story it was merged into (near-copies of its text still find it)."""
        self._merged_by: dict[int, tuple[str, tuple[str, ...]]] = {}
        """Article id hash -> (its story, the stories it merged): a replay writes the same record."""
        self.clock: datetime | None = None
        self._expired_at: datetime | None = None

    @classmethod
    def configured(
        cls,
        rules_root: Path,
        cluster: ClusterParams | None = None,
        dedup_window: timedelta = DEFAULT_WINDOW,
        event_params: EventParams | None = None,
    ) -> PipelineState:
        """Empty state with the alert weights of `rules_root`'s rule packs and its watch list."""
        weights = {rule.id: rule.alert_weight for rule in load_rules((rules_root / "rules").glob("*.yaml"))}
        ledger = AlertLedger(weights, Watchlist.load(rules_root / "watchlist.yaml"))
        return cls(ledger, cluster or ClusterParams(), dedup_window, event_params or EventParams())

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
        self.copies = {aid: kept for aid, kept in self.copies.items() if self.dedup.knows(aid)}
        gone = self._gone(self.stories.expire(watermark))
        self.book.forget(gone)
        self.ledger.forget(gone)
        self.events.forget(gone)
        self.events.expire(watermark)
        ended = set(gone)
        self._merged_by = {k: v for k, v in self._merged_by.items() if v[0] not in ended}

    def _gone(self, expired: list[str]) -> list[str]:
        """Stories to forget once the text index expired `expired`. A merged id keeps its alias only while
        its text is live (near-copies of it still come in); a story is forgotten once neither it nor any
        story merged into it is live in the text index."""
        candidates = set(expired)
        for alias, target in list(self.aliases.items()):
            if not self.stories.live(alias):
                del self.aliases[alias]
                candidates.add(target)
        targeted = set(self.aliases.values())
        return sorted(sid for sid in candidates if sid not in targeted and not self.stories.live(sid))

    def deduplicate(self, item: FeedItem) -> str | None:
        """None for a new item, "id" for a replay of one seen before, "url"/"hash" for a duplicate."""
        with self.lock:
            self.observe(min(item.event_time, item.fetched))
            return self.dedup.seen(item)

    def copy(self, item: FeedItem) -> tuple[str, tuple[ArticleCopy, ...]] | None:
        """Record `item`, an exact duplicate from another feed, as a copy of the article it duplicates;
        returns that article and its whole list of copies, or None when nothing changed (the same feed
        again, a copy seen before, a full list)."""
        with self.lock:
            holder = self.dedup.holder(item)
            if holder is None or holder[1] == item.feed_id:
                return None
            article_id = holder[0]
            kept = self.copies.get(article_id, ())
            if len(kept) >= COPIES_KEPT or any(c.item_id == item.item_id for c in kept):
                return None
            seen = ArticleCopy(item_id=item.item_id, feed_id=item.feed_id, url=item.url, seen=item.fetched)
            self.copies[article_id] = (*kept, seen)
            return article_id, self.copies[article_id]

    def _features(self, title: str, text: str, actors: Sequence[ActorRef], when: datetime) -> Features:
        """An article's features, with the sentence-initial names the stream knows by `when`."""
        return features(title, text, actors, self.event_params, lambda key: self.events.knows_name(key, when))

    def resolve(self, story_id: str) -> str:
        while story_id in self.aliases:
            story_id = self.aliases[story_id]
        return story_id

    def assign(self, item: FeedItem, analysis: Analysis) -> Placed:
        """Put the article in its story; a replayed article gets its first placement back and changes
        nothing (not even the document frequencies)."""
        with self.lock:
            when = item.event_time
            base = self._features(item.title, body(item), analysis.actors, when)
            seen = self.stories.knows(item.item_id)
            vector = self.events.weigh(base, when) if seen else self.events.observe(base, when)
            said_by = speaker(item.title, self.event_params)
            reported = headline_kinds(item.title, analysis.topics, self.event_params)
            # A replay gets its first placement from the text index: no candidates to look for.
            matches = [] if seen else self.events.matches(vector, when, said_by, item.language, reported)
            placing = next((m for m in matches if m.places(self.event_params)), None)
            best = placing.story_id if placing else None
            # Placed by its defining words below the merge threshold: too weak a tie to join two stories.
            bridges = placing is None or placing.similarity >= self.event_params.merge_threshold
            if best is None and not seen:
                best = self._linked(analysis, when, said_by, reported)
            assignment = self.stories.assign(cluster_doc(item), best)
            story_id = self.resolve(assignment.story_id)
            key = stable_hash(item.item_id)
            known = self.book.syndicated(story_id, item.item_id)
            if known is not None:
                first, merged = self._merged_by.get(key, (story_id, ()))
                view = self.book.view(self.resolve(first))
                return Placed(view, known, True, assignment.linked, merged)
            syndicated = not assignment.is_new_story and assignment.body_similarity >= SYNDICATION_THRESHOLD
            others = (
                set()
                if assignment.is_new_story or not bridges or digest(item.title)
                else {
                    other
                    for m in matches
                    if m.similarity >= self.event_params.merge_threshold
                    and self.events.mergeable(story_id, other := self.resolve(m.story_id))
                }
            )
            story_id, merged = self._merge(story_id, sorted(others - {story_id}))
            if merged:
                self._merged_by[key] = (story_id, merged)
            facts = topic_facts(item.item_id, list(analysis.topics))
            self._count(article_ref(item, story_id), facts, list(analysis.actors), syndicated, bool(merged))
            self.events.add(story_id, vector, when, item.language, speaker=said_by, kinds=reported)
            return Placed(self.book.view(story_id), syndicated, False, assignment.linked, merged)

    def _linked(
        self, analysis: Analysis, when: datetime, said_by: int | None, reported: frozenset[str]
    ) -> str | None:
        """The live story of the same watched kind that shares the most gazetteer actors with the article
        (EventParams.link_actors, link_persons), if any: the link when the words alone do not place it.
        Of equals, the one more outlets report: the likelier home of one more report."""
        p = self.event_params
        topics = {t["topic"] for t in analysis.topics}
        persons = {a.id for a in analysis.actors if a.type == "person"}
        if not topics or len(persons) < p.link_persons:
            return None
        mine = {a.id for a in analysis.actors}
        found = []
        for story_id in self.events.holding(sorted(persons), when, said_by, reported):
            view = self.book.view(story_id)
            shared = mine.intersection(view.actor_ids)
            if (
                len(shared) >= p.link_actors
                and len(shared & persons) >= p.link_persons
                and not topics.isdisjoint(t.topic for t in view.topics)
            ):
                found.append((-len(shared), -len(view.independent_sources), story_id))
        return min(found)[-1] if found else None

    def _count(
        self,
        ref: ArticleRef,
        facts: list[TopicFact],
        actors: list[ActorRef],
        syndicated: bool,
        merged: bool,
    ) -> None:
        """Count the article in its story (after any merge it made). A new independent source, or sources
        brought together by a merge, is an observation of the pace of the story's kind of news, which
        may make it breaking (pipeline/breaking.py). Live and restore run this in the same order."""
        new_source = not syndicated and not self.book.is_independent(ref.story_id, ref.source_id)
        self.book.add(ref, facts, actors, syndicated)
        if new_source or merged:
            self._pace(ref.story_id, ref.event_time)

    def _pace(self, story_id: str, when: datetime) -> None:
        """The story gained independent sources (a new one, or a merge) by `when`: is it breaking now?"""
        view = self.book.view(story_id)
        if view.topics:
            keys = kinds((t.topic for t in view.topics), view.actor_ids, self.surges.params)
            surge = self.surges.observe(keys, self.book.arrivals(story_id), when)
            if surge is not None:
                self.book.mark_breaking(story_id, surge)

    def _merge(self, story_id: str, others: list[str]) -> tuple[str, tuple[str, ...]]:
        """Merge `story_id` and `others` into the one that began first (then smaller id); returns the
        survivor and the ids merged into it."""
        if not others:
            return story_id, ()
        group = sorted({story_id, *others}, key=lambda sid: (self.book.view(sid).first_seen, sid))
        survivor, absorbed = group[0], tuple(group[1:])
        for sid in absorbed:
            self._absorb(sid, survivor)
        return survivor, absorbed

    def _absorb(self, absorbed: str, survivor: str) -> None:
        """Fold `absorbed` into `survivor`."""
        self._alias(absorbed, survivor)
        self.book.merge(absorbed, survivor)
        self.ledger.merge(absorbed, survivor)
        self.events.merge(absorbed, survivor)

    def _alias(self, absorbed: str, survivor: str) -> None:
        """`absorbed` is now `survivor`; aliases stay one step deep, so expiring one never cuts a chain."""
        for alias, target in list(self.aliases.items()):
            if target == absorbed:
                self.aliases[alias] = survivor
        self.aliases[absorbed] = survivor

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
        """Rebuild from what the job wrote before (articles in the order first processed); returns counts.

        Each article replays what its first processing did, in the same order: the merges it made, then
        its count in the story (and the pace observation), then its centroid share."""
        n_articles = n_alerts = 0
        merges: list[tuple[str, str]] = []
        for doc in articles:
            n_articles += 1
            when = doc.timestamp
            self.dedup.remember(dedup_keys_of(doc.article_id, doc.link, doc.content_hash), when, doc.feed.id)
            if doc.watchfloor.copies:
                self.copies[doc.article_id] = tuple(doc.watchfloor.copies)
            text = doc.content or doc.summary
            self.stories.restore(
                ClusterDoc(doc.article_id, doc.title, text, doc.feed.id, doc.feed.tier, when), doc.story_id
            )
            vector = self.events.observe(self._features(doc.title, text, doc.actors, when), when)
            for absorbed in doc.merged_stories:
                if absorbed in self.book and doc.story_id in self.book:
                    self.book.merge(absorbed, doc.story_id)
                    self.events.merge(absorbed, doc.story_id)
                self._alias(absorbed, doc.story_id)
                merges.append((absorbed, doc.story_id))
            if doc.merged_stories:
                self._merged_by[stable_hash(doc.article_id)] = (doc.story_id, tuple(doc.merged_stories))
            ref = ArticleRef(
                doc.article_id, doc.story_id, doc.title, doc.link, doc.feed.id, doc.feed.tier, when
            )
            topics = doc.explanation.get("topics", [])
            facts = topic_facts(doc.article_id, topics)
            self._count(ref, facts, doc.actors, doc.syndicated, bool(doc.merged_stories))
            said_by = speaker(doc.title, self.event_params)
            reported = headline_kinds(doc.title, topics, self.event_params)
            self.events.add(doc.story_id, vector, when, doc.language, speaker=said_by, kinds=reported)
            self.observe(min(when, doc.fetched))
        for alert in alerts:
            story_id = alert.watchfloor.story_id
            if story_id in self.book or story_id in self.aliases:
                n_alerts += 1
                self.ledger.record(alert)
        for absorbed, survivor in merges:  # in the order they were made, as the live ledger saw them
            self.ledger.merge(absorbed, survivor)
        return n_articles, n_alerts
