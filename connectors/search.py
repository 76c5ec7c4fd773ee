"""The analyst's queries over Elasticsearch: articles by text and filters, alerts, one alert's story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from connectors.feeds.normalize import canonical_url
from schemas.notify import SEVERITY_ORDER


@dataclass(frozen=True)
class Indices:
    articles: str = "watchfloor-articles*"
    alerts: str = "watchfloor-alerts*"


def _since(since: timedelta | None) -> list[dict[str, Any]]:
    if since is None:
        return []
    return [{"range": {"@timestamp": {"gte": (datetime.now(UTC) - since).isoformat()}}}]


LINK_FIELDS = ("url.full", "url.original", "watchfloor.copies.url")
"""Where an article keeps links: its own, as canonicalised and as the feed spelt it, and its copies'."""


def _is_link(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://")) and " " not in text.strip()


def _link_query(link: str) -> dict[str, Any]:
    """The article whose own link, or one of whose exact copies' links, is `link` (canonical or not)."""
    spellings = sorted({link, canonical_url(link) or link})
    return {"bool": {"should": [{"terms": {field: spellings}} for field in LINK_FIELDS]}}


def _words_query(text: str) -> dict[str, Any]:
    return {"multi_match": {"query": text, "fields": ["title^3", "summary", "content"], "operator": "and"}}


def search_articles(
    es: Elasticsearch,
    text: str,
    *,
    topic: str | None = None,
    actor: str | None = None,
    since: timedelta | None = None,
    size: int = 20,
    indices: Indices = Indices(),
) -> list[dict[str, Any]]:
    """Best matches first (headline weighted over body); a link finds the article that has it, as its
    own or an exact copy's; filters narrow without changing the ranking."""
    filters = _since(since)
    if topic:
        filters.append({"term": {"topics": topic}})
    if actor:
        filters.append({"term": {"actor_ids": actor}})
    must = [_link_query(text.strip()) if _is_link(text) else _words_query(text)] if text.strip() else []
    query = {"bool": {"must": must, "filter": filters}}
    sort: list[Any] = ["_score", {"@timestamp": "desc"}] if must else [{"@timestamp": "desc"}]
    try:
        hits = es.search(index=indices.articles, query=query, size=size, sort=sort)["hits"]["hits"]
    except NotFoundError:
        return []
    return [{"_id": h["_id"], **h["_source"]} for h in hits]


def list_alerts(
    es: Elasticsearch,
    *,
    topic: str | None = None,
    min_severity: str | None = None,
    since: timedelta | None = None,
    size: int = 50,
    indices: Indices = Indices(),
) -> list[dict[str, Any]]:
    """Newest first."""
    filters = _since(since)
    if topic:
        filters.append({"term": {"rule.name": topic}})
    if min_severity:
        allowed = SEVERITY_ORDER[SEVERITY_ORDER.index(min_severity) :]
        filters.append({"terms": {"watchfloor.severity": list(allowed)}})
    try:
        hits = es.search(
            index=indices.alerts,
            query={"bool": {"filter": filters}},
            size=size,
            sort=[{"@timestamp": "desc"}],
        )["hits"]["hits"]
    except NotFoundError:
        return []
    return [h["_source"] for h in hits]


def alert_detail(es: Elasticsearch, alert_id: str, indices: Indices = Indices()) -> dict[str, Any] | None:
    """The alert, its story's articles (the sources) and the timeline of its topic's revisions."""
    try:
        found = es.search(index=indices.alerts, query={"term": {"watchfloor.alert_id": alert_id}}, size=1)
    except NotFoundError:
        return None
    hits = found["hits"]["hits"]
    if not hits:
        return None
    alert = hits[0]["_source"]
    w = alert["watchfloor"]
    revisions = es.search(
        index=indices.alerts,
        query={
            "bool": {
                "filter": [
                    {"term": {"watchfloor.story_id": w["story_id"]}},
                    {"term": {"rule.name": w["topic"]}},
                ]
            }
        },
        size=100,
        sort=[{"watchfloor.revision": "asc"}],
        source_includes=[
            "@timestamp",
            "watchfloor.revision",
            "watchfloor.severity",
            "watchfloor.reason",
            "watchfloor.alert_id",
        ],
    )["hits"]["hits"]
    try:
        articles = es.search(
            index=indices.articles,
            query={"term": {"story_id": w["story_id"]}},
            size=200,
            sort=[{"@timestamp": "asc"}],
            source_includes=["@timestamp", "title", "url", "watchfloor", "syndicated", "topics"],
        )["hits"]["hits"]
    except NotFoundError:
        articles = []
    return {
        "alert": alert,
        "revisions": [h["_source"] for h in revisions],
        "articles": [{"_id": h["_id"], **h["_source"]} for h in articles],
    }
