"""News entries of our own that each raise an alert as a story of its own, for end-to-end runs where
every new feed entry must reach the webhook sink: an arms deal or a state visit (terms the classifier's
arms_transfer and leader_visit packs tag) between a pair of countries not paired before in the run, with
invented place, people and words, so no two entries share more than their one-sentence template."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

import yaml

from schemas.bundled import DEPLOY

# fmt: off
_SYLLABLES = ["ka", "lo", "ven", "dra", "mi", "sor", "tel", "bru", "na", "vik",
              "os", "ter", "pal", "zu", "ren", "gha", "lim", "cor", "abe", "tus"]
# fmt: on


def _countries() -> list[str]:
    """The gazetteer's countries whose names share no word with another's: "United Kingdom" and
    "United States" would tie unrelated events together through the name "United"."""
    names = [
        c["name"] for c in yaml.safe_load((DEPLOY / "gazetteer" / "countries.yaml").read_text())["countries"]
    ]
    return [n for n in names if not any(set(n.split()) & set(o.split()) for o in names if o != n)]


@dataclass(frozen=True)
class NewsEntry:
    guid: str
    link: str
    title: str
    text: str
    published: datetime


class NewsEvents:
    """Entries of distinct events, in the order asked for; the same seed gives the same texts."""

    def __init__(self, seed: int = 11) -> None:
        self._rng = random.Random(seed)
        countries = _countries()
        self._pairs = [(a, b) for a in countries for b in countries if a != b]
        self._rng.shuffle(self._pairs)
        self._count = 0

    def _word(self) -> str:
        return "".join(self._rng.choice(_SYLLABLES) for _ in range(3))

    def entry(self, feed_id: str, n: int) -> NewsEntry:
        """Entry ``n`` of ``feed_id``: the next event, at ``https://<feed_id>.example/news/<n>``."""
        a, b = self._pairs[self._count % len(self._pairs)]
        visit = self._count % 2 == 1
        self._count += 1
        place, person, other, port = (self._word().capitalize() for _ in range(4))
        w = [self._word() for _ in range(8)]
        if visit:
            title = f"{place} welcomes {a} president on state visit"
            text = (
                f"{a}'s president began a state visit to {b} in {place}, greeted by {person} and {other}. "
                f"The {w[0]} {w[1]} and the {w[2]} {w[3]} were on the agenda in {port}; "
                f"{w[4]} {w[5]}, {w[6]} and {w[7]} followed."
            )
        else:
            title = f"{a} and {b} sign arms deal over {place} {w[0]}"
            text = (
                f"{a} agreed an arms deal with {b} for {place} {w[0]}, {person} said. "
                f"{other} will build the {w[1]} {w[2]} at {port}, with {w[3]} {w[4]}; "
                f"{w[5]}, {w[6]} and {w[7]} are included."
            )
        link = f"https://{feed_id}.example/news/{n}"
        return NewsEntry(f"{feed_id}-{n}", link, title, text, datetime.now(UTC))


def news_rss(feed_id: str, entries: list[NewsEntry]) -> bytes:
    """An RSS 2.0 feed of ``entries``."""
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
        f'<guid isPermaLink="false">{escape(e.guid)}</guid><pubDate>{format_datetime(e.published)}</pubDate>'
        f"<description>{escape(e.text)}</description></item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(feed_id)}</title><link>https://{feed_id}.example/</link><description>news</description>"
        f"<language>en</language>{items}</channel></rss>"
    ).encode()
