"""Read back what the pipeline wrote, to rebuild its working memory after a restart (ADR 0003).

Windows are measured in event time from the newest document, not from the wall clock, so replaying an
old backlog restores the same state as the live run had.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

from elasticsearch import Elasticsearch, NotFoundError
from pydantic import BaseModel, ValidationError

from schemas.alert import AlertDoc
from schemas.article import ArticleDoc

log = logging.getLogger(__name__)

PAGE = 1000

M = TypeVar("M", bound=BaseModel)


def newest(es: Elasticsearch, index: str, field: str = "@timestamp") -> datetime | None:
    """The largest value of a date field in `index`, or None when it is empty or missing."""
    try:
        es.indices.refresh(index=index)
        resp = es.search(index=index, size=0, aggs={"newest": {"max": {"field": field}}})
    except NotFoundError:
        return None
    value = resp["aggregations"]["newest"].get("value_as_string")
    return datetime.fromisoformat(value) if value else None


def _scan(
    es: Elasticsearch, index: str, model: type[M], query: dict[str, Any], sort: list[dict[str, Any]]
) -> Iterator[M]:
    after: list[Any] | None = None
    while True:
        page = es.search(index=index, query=query, sort=sort, size=PAGE, search_after=after)
        hits = page["hits"]["hits"]
        for hit in hits:
            try:
                yield model.model_validate(hit["_source"])
            except ValidationError as exc:
                log.warning("restore: skipping %s/%s: %s", index, hit["_id"], exc.errors()[:1])
        if len(hits) < PAGE:
            return
        after = hits[-1]["sort"]


def articles_since(es: Elasticsearch, index: str, window: timedelta) -> Iterator[ArticleDoc]:
    """Articles within `window` of the newest, in the order the pipeline first processed them."""
    top = newest(es, index)
    if top is None:
        return
    query = {"range": {"@timestamp": {"gte": (top - window).isoformat()}}}
    sort = [{"fetched": "asc"}, {"@timestamp": "asc"}, {"article_id": "asc"}]
    yield from _scan(es, index, ArticleDoc, query, sort)


def alerts_since(es: Elasticsearch, index: str, window: timedelta) -> Iterator[AlertDoc]:
    """Alerts of stories seen within `window` of the newest alert, by story, topic and revision."""
    top = newest(es, index, "watchfloor.last_seen")
    if top is None:
        return
    query = {"range": {"watchfloor.last_seen": {"gte": (top - window).isoformat()}}}
    sort = [{"watchfloor.story_id": "asc"}, {"watchfloor.topic": "asc"}, {"watchfloor.revision": "asc"}]
    yield from _scan(es, index, AlertDoc, query, sort)
