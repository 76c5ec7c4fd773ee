"""Fixture feeds written for Watchfloor's tests: our own text, generated per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

BASE_TIME = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def rss(feed_id: str, count: int, host: str = "news.example", start: int = 0) -> bytes:
    """An RSS 2.0 feed with ``count`` items, GUIDs ``<feed_id>-<n>`` and distinct links."""
    items = []
    for n in range(start, start + count):
        published = format_datetime(BASE_TIME + timedelta(minutes=n))
        items.append(
            f"<item><title>{escape(f'Report {n} from {feed_id}')}</title>"
            f"<link>https://{host}/{feed_id}/story-{n}?utm_source=rss</link>"
            f'<guid isPermaLink="false">{feed_id}-{n}</guid>'
            f"<pubDate>{published}</pubDate>"
            f"<description>{escape(f'<p>Dispatch {n} of the {feed_id} desk.</p>')}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(feed_id)}</title><link>https://{host}/</link><description>fixture</description>"
        f"<language>en</language>{''.join(items)}</channel></rss>"
    ).encode()
