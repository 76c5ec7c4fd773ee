"""Parse fetched feed bytes with feedparser, keeping its untyped result behind one small frozen record.

feedparser is only ever given an in-memory stream: handed a string it would treat it as a URL or a
file name and fetch or open it. Entity handling is feedparser's own (it strips every DOCTYPE entity
declaration except plain-text ones and disables external entities in expat), which the unit tests pin.

feedparser is given no base URL and does no HTML work: resolving every element against a base cost
about a third of a parse, and sanitising markup is moot when normalisation turns it into plain text. The
one URL Watchfloor reads, the entry link, is joined against ``ParsedFeed.url`` in normalisation; a
GUID is kept as published, so item ids do not change when a feed moves.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

BOZO_REASON_CHARS = 300

_PERIOD_S = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 7 * 86400,
    "monthly": 30 * 86400,
    "yearly": 365 * 86400,
}


class FeedParseError(Exception):
    """feedparser itself raised: the body cannot be read as a feed at all."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedFeed:
    """What Watchfloor needs from one parsed document; ``entries`` stay feedparser's dicts."""

    url: str  # the document's base: Content-Location (if http(s)) resolved against the fetched URL
    bozo: bool
    bozo_reason: str | None
    title: str
    language: str | None
    entries: list[Any]
    ttl_s: int | None
    update_period_s: int | None
    version: str
    links: tuple[tuple[str, str], ...] = ()  # (rel, href) of the feed's own links: WebSub hub and self

    @property
    def is_feed(self) -> bool:
        """False for e.g. an HTML page served in place of the feed: feedparser recognised nothing."""
        return self.version != "" or bool(self.entries)


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse ``body`` as fetched from ``url`` with HTTP response ``headers``; raises only FeedParseError."""
    response_headers, base = _response_headers(headers, url)
    try:
        result = feedparser.parse(
            io.BytesIO(body),
            response_headers=response_headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:
        raise FeedParseError(f"feedparser failed: {one_line(exc)}") from exc
    feed = result.get("feed", {})
    bozo = bool(result.get("bozo"))
    return ParsedFeed(
        url=base,
        bozo=bozo,
        bozo_reason=one_line(result.get("bozo_exception", "unknown")) if bozo else None,
        title=" ".join(str(feed.get("title", "")).split()),
        language=language_code(feed.get("language")),
        entries=list(result.get("entries", [])),
        ttl_s=_ttl_s(feed.get("ttl")),
        update_period_s=_update_period_s(feed.get("sy_updateperiod"), feed.get("sy_updatefrequency")),
        version=str(result.get("version", "")),
        links=_links(feed.get("links")),
    )


def _links(links: object) -> tuple[tuple[str, str], ...]:
    """Atom ``<link>`` and RSS ``<atom:link>`` elements of the feed (not its entries) as (rel, href)."""
    if not isinstance(links, list):
        return ()
    return tuple(
        (str(link.get("rel", "")).lower(), str(link["href"]))
        for link in links
        if isinstance(link, dict) and link.get("href")
    )


def _response_headers(headers: Mapping[str, str], url: str) -> tuple[dict[str, str], str]:
    """Lower-case names (feedparser looks them up case-sensitively) without Content-Location, and the
    document's base URL: the Content-Location header resolved against ``url`` when it is http(s)."""
    lowered = {name.strip().lower(): value for name, value in headers.items()}
    location = urljoin(url, lowered.pop("content-location", "").strip())
    return lowered, location if urlsplit(location).scheme in ("http", "https") else url


def one_line(value: object) -> str:
    """``Class: message`` for an exception (else its text), on one line, at most BOZO_REASON_CHARS."""
    text = f"{type(value).__name__}: {value}" if isinstance(value, BaseException) else str(value)
    return " ".join(text.split())[:BOZO_REASON_CHARS]


def language_code(tag: object) -> str | None:
    """ISO 639-1 primary subtag of a language tag such as 'en-us' or 'pt_BR'; None if there is none."""
    if not isinstance(tag, str):
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if len(primary) == 2 and primary.isascii() and primary.isalpha() else None


def _positive_int(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 else None


def _ttl_s(ttl: object) -> int | None:
    """RSS ``<ttl>`` is in minutes."""
    minutes = _positive_int(ttl) if ttl is not None else None
    return minutes * 60 if minutes else None


def _update_period_s(period: object, frequency: object) -> int | None:
    """sy:updatePeriod / sy:updateFrequency; the module's defaults are 'daily' and 1."""
    if period is None and frequency is None:
        return None
    seconds = _PERIOD_S.get(str(period or "daily").strip().lower())
    if seconds is None:
        return None
    times = _positive_int(frequency) if frequency is not None else 1
    return max(seconds // times, 1) if times else None
