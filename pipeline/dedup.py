"""Exact dedup: drop an item when its id, canonical URL or content hash was already seen.

Feeds repeat themselves: the same entry on every poll (same id), the same article in two feeds of
one publisher (same canonical URL, different item ids), and syndicated copies byte-identical after
normalisation (same content hash). Any one match is a duplicate. The Beam transform keys state by
each dedup key; the decision logic lives here so both that transform and `ExactDeduper` share it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from schemas.item import FeedItem

DedupKey = tuple[str, str]
"""(kind, value); kind is "id", "url" or "hash"."""

DedupKeys = tuple[DedupKey, ...]

DEFAULT_WINDOW = timedelta(days=7)


def dedup_keys(item: FeedItem) -> DedupKeys:
    """The item's exact-dedup keys, cheapest and most specific first."""
    return dedup_keys_of(item.item_id, item.url, item.content_hash)


def dedup_keys_of(item_id: str, url: str | None, content_hash: str) -> DedupKeys:
    keys: list[DedupKey] = [("id", item_id)]
    if url:
        keys.append(("url", url))
    keys.append(("hash", content_hash))
    return tuple(keys)


def first_seen_key(keys: Iterable[DedupKey], is_seen: Callable[[DedupKey], bool]) -> DedupKey | None:
    """The first key already seen, else None; `is_seen` is the state lookup (dict, Beam state, ...)."""
    return next((key for key in keys if is_seen(key)), None)


class ExactDeduper:
    """Seen dedup keys with event-time expiry, so memory stays bounded by the window's traffic.

    Keys are stamped with the item's event time (not arrival time), so a replay of a backlog dedups
    exactly like the live run did.
    """

    def __init__(self, window: timedelta = DEFAULT_WINDOW) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        self.window = window
        self._seen: dict[DedupKey, datetime] = {}
        self._holder: dict[DedupKey, tuple[str, str]] = {}
        """Key -> the item id and feed that recorded it: the article an exact copy duplicates."""

    def __len__(self) -> int:
        return len(self._seen)

    def seen(self, item: FeedItem) -> str | None:
        """The kind of the first key that matched ("id", "url", "hash"); None records the item as new."""
        keys = dedup_keys(item)
        match = first_seen_key(keys, self._seen.__contains__)
        if match is not None:
            return match[0]
        self.remember(keys, item.event_time, item.feed_id)
        return None

    def remember(self, keys: DedupKeys, stamp: datetime, feed_id: str = "") -> None:
        """Record keys as seen at event time `stamp` (also how state is rebuilt after a restart)."""
        item_id = dict(keys).get("id")
        holder = None if item_id is None else (item_id, feed_id)
        for key in keys:
            if self._seen.get(key, stamp) <= stamp:
                self._seen[key] = stamp
            if holder is not None:
                self._holder.setdefault(key, holder)

    def holder(self, item: FeedItem) -> tuple[str, str] | None:
        """The item id and feed that recorded the first of `item`'s keys seen (what it duplicates)."""
        match = first_seen_key(dedup_keys(item), self._seen.__contains__)
        return None if match is None else self._holder.get(match)

    def knows(self, item_id: str) -> bool:
        return ("id", item_id) in self._seen

    def expire(self, watermark: datetime) -> int:
        """Drop keys whose event time is older than `watermark - window`; returns how many."""
        if watermark.tzinfo is None:
            raise ValueError("watermark must be timezone-aware")
        cutoff = watermark - self.window
        old = [key for key, stamp in self._seen.items() if stamp < cutoff]
        for key in old:
            del self._seen[key]
            self._holder.pop(key, None)
        return len(old)
