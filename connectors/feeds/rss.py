"""RSS 2.0 documents written from our own records: the demo's feeds and replayed corpora are served as
the outlets' feeds would be, so they go through the ingester's real parse and normalisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


def rss_item(title: str, link: str, guid: str, published: datetime, description: str) -> str:
    """One ``<item>``; `description` is the HTML (or text) the outlet published, escaped as feeds do."""
    return (
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="false">{escape(guid)}</guid>'
        f"<pubDate>{format_datetime(published)}</pubDate>"
        f"<description>{escape(description)}</description></item>"
    )


def rss_document(title: str, link: str, description: str, language: str, items: Iterable[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(description)}</description><language>{escape(language)}</language>"
        f"{''.join(items)}</channel></rss>"
    ).encode()
