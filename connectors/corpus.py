"""A labelled news corpus (items.jsonl + gold.jsonl, one label line per item) read as feeds would give it.

The development day in ``../shared/corpora/news-day-2023-09-13/`` has this shape: each item is a raw
RSS entry (title, link, summary with its HTML, published), each gold line its story and topics. Each
entry is rendered as RSS 2.0 and goes through the ingester's own parse and normalisation, so what the
scorer measures is what the pipeline receives from the real feeds. The text stays where it is: nothing
of it is copied into the repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.feeds.normalize import normalize_entry
from connectors.feeds.parse import parse_feed
from connectors.feeds.rss import rss_document, rss_item
from pipeline.storyeval import Gold
from schemas.feed import FeedConfig
from schemas.item import FeedItem

FETCH_DELAY = timedelta(seconds=60)
"""A replayed item is fetched this long after it was published (one poll interval's worth)."""


class CorpusError(ValueError):
    """The corpus files are missing or do not line up."""


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    feed: str
    guid: str
    title: str
    link: str
    summary: str
    published: datetime
    language: str


def read_corpus(items: Path, gold: Path) -> list[tuple[CorpusEntry, Gold]]:
    """Items with their labels, in file order (the corpus's publication order)."""
    try:
        entries = [_entry(line) for line in _lines(items)]
        labels = [_gold(line) for line in _lines(gold)]
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise CorpusError(f"cannot read the corpus: {exc}") from exc
    if len(entries) != len(labels):
        raise CorpusError(f"{items} has {len(entries)} items but {gold} has {len(labels)} labels")
    for n, (entry, label) in enumerate(zip(entries, labels, strict=True), 1):
        if label.guid != entry.guid:
            raise CorpusError(f"line {n}: gold guid {label.guid!r} does not label item {entry.guid!r}")
    return list(zip(entries, labels, strict=True))


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _entry(data: dict[str, Any]) -> CorpusEntry:
    return CorpusEntry(
        feed=data["feed"],
        guid=data["guid"],
        title=data["title"],
        link=data["link"],
        summary=data.get("summary") or "",
        published=datetime.fromisoformat(data["published"]),
        language=data.get("language") or "en",
    )


def _gold(data: dict[str, Any]) -> Gold:
    return Gold(guid=data["guid"], story=data.get("story"), topics=tuple(data.get("topics") or ()))


def render_rss(feed: str, language: str, entries: Iterable[CorpusEntry]) -> bytes:
    """An RSS 2.0 document of `entries` as the outlet published them (summary HTML escaped, as feeds do)."""
    items = (rss_item(e.title, e.link, e.guid, e.published, e.summary) for e in entries)
    return rss_document(feed, f"https://{feed}.example/", feed, language, items)


def feed_config(feed: str, language: str, url: str | None = None) -> FeedConfig:
    return FeedConfig(id=feed, url=url or f"https://{feed}.example/rss", name=feed, language=language)


def feed_item(entry: CorpusEntry) -> FeedItem:
    """The entry as the ingester would publish it, fetched `FETCH_DELAY` after it appeared."""
    config = feed_config(entry.feed, entry.language)
    parsed = parse_feed(render_rss(entry.feed, entry.language, [entry]), {}, config.url)
    return normalize_entry(parsed.entries[0], config, parsed, entry.published + FETCH_DELAY)
