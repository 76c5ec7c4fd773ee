"""From a deduplicated item to its article document: classification, story, syndication flag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.classify.engine import Classification, Classifier
from pipeline.classify.limits import clipped, head
from pipeline.cluster import ClusterDoc
from pipeline.stories import ArticleRef
from schemas.article import ActorRef, ArticleDetails, ArticleDoc, ArticleUrl, FeedRef, TopicScore
from schemas.item import FeedItem


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the classifier found in one article, in the shape articles and stories store it."""

    topics: tuple[dict[str, Any], ...]
    actors: tuple[ActorRef, ...]
    modality: str | None
    explanation: dict[str, Any]

    @classmethod
    def of(cls, classification: Classification) -> Analysis:
        data = classification.to_dict()
        actors = tuple(
            ActorRef(id=a.id, name=a.name, type=a.type, country=a.iso3 or None) for a in classification.actors
        )
        return cls(tuple(data["topics"]), actors, classification.modality, data["explanation"])


def body(item: FeedItem) -> str:
    """The text clustering and classification read: full content when the feed carries it."""
    return item.content or item.summary


def analyse(classifier: Classifier, item: FeedItem) -> Analysis:
    return Analysis.of(classifier.classify(item.title, body(item), item.language))


def cluster_doc(item: FeedItem) -> ClusterDoc:
    return ClusterDoc(item.item_id, item.title, body(item), item.feed_id, item.source.tier, item.event_time)


def article_ref(item: FeedItem, story_id: str) -> ArticleRef:
    return ArticleRef(
        item.item_id, story_id, item.title, item.url, item.feed_id, item.source.tier, item.event_time
    )


STORED_TEXT_CHARS = 200_000
"""Of an article's summary and content, what its document keeps: a feed may carry megabytes in one
entry, and one document must not bloat the index (or exceed a bulk request) for text nobody reads."""


def stored_text(item: FeedItem) -> tuple[dict[str, str], dict[str, str]]:
    """The summary and content as the document keeps them, and what was clipped, said per field."""
    whole = {"summary": item.summary, "content": item.content}
    kept = {name: head(text, STORED_TEXT_CHARS) for name, text in whole.items()}
    return kept, clipped(kept, whole)


def article_doc(
    item: FeedItem, analysis: Analysis, story_id: str, *, syndicated: bool, merged: tuple[str, ...] = ()
) -> ArticleDoc:
    """``watchfloor-articles`` document; ``_id`` = article_id = the item id (ADR 0002)."""
    text, cut = stored_text(item)
    explanation = {**analysis.explanation, "topics": list(analysis.topics)}
    if cut:
        explanation["stored"] = cut
    return ArticleDoc.model_validate(
        {
            "@timestamp": item.event_time,
            "article_id": item.item_id,
            "story_id": story_id,
            "url": ArticleUrl.of(item),
            "title": item.title,
            **text,
            "language": item.language,
            "published": item.published,
            "updated": item.updated,
            "fetched": item.fetched,
            "content_hash": item.content_hash,
            "watchfloor": ArticleDetails(feed=FeedRef.of(item.source)),
            "topics": [t["topic"] for t in analysis.topics],
            "topic_scores": [TopicScore(topic=t["topic"], score=t["score"]) for t in analysis.topics],
            "actors": list(analysis.actors),
            "actor_ids": [a.id for a in analysis.actors],
            "modality": analysis.modality,
            "syndicated": syndicated,
            "merged_stories": list(merged),
            "explanation": explanation,
        }
    )
