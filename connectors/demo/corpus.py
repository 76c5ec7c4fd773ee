"""The demo corpus (deploy/demo/stories.yaml): stories carried by outlets, rendered as RSS 2.0.

The same text serves the acceptance tests, the benchmarks and ``make run``, so what an analyst sees in
the demo is what the tests assert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import yaml

from connectors.feeds.rss import rss_document, rss_item
from schemas.bundled import DEPLOY
from schemas.feed import FeedConfig, SourceTier

DEFAULT_CORPUS = DEPLOY / "demo" / "stories.yaml"


@dataclass(frozen=True, slots=True)
class Outlet:
    id: str
    name: str
    tier: SourceTier
    country: str
    host: str


@dataclass(frozen=True, slots=True)
class DemoArticle:
    story: str
    outlet: str
    title: str
    text: str
    link: str
    at: timedelta
    """Published this long after the start of the replay."""


@dataclass(frozen=True)
class Corpus:
    outlets: dict[str, Outlet]
    articles: tuple[DemoArticle, ...]

    @classmethod
    def load(cls, path: Path = DEFAULT_CORPUS) -> Corpus:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        outlets = {
            o["id"]: Outlet(o["id"], o["name"], SourceTier(o["tier"]), o["country"], o["host"])
            for o in data["outlets"]
        }
        articles = []
        for story in data["stories"]:
            for version in story["versions"]:
                outlet = outlets[version["outlet"]]
                articles.append(_article(story, version, outlet))
        return cls(outlets, tuple(sorted(articles, key=lambda a: a.at)))

    def by_outlet(self, outlet: str) -> list[DemoArticle]:
        return [a for a in self.articles if a.outlet == outlet]

    def feeds(self, url_of: Callable[[str], str], id_suffix: str = "") -> list[FeedConfig]:
        """The demo registry: one feed per outlet; ``url_of(outlet_id)`` says where it is served.

        ``id_suffix`` makes the feed ids new, so that a feed state from an earlier run (which remembers
        the items it published) does not hold this run's items back.
        """
        return [
            FeedConfig(
                id=f"{o.id}{id_suffix}",
                url=url_of(o.id),
                name=o.name,
                tier=o.tier,
                country=o.country,
                min_interval_s=30,
                max_interval_s=60,
            )
            for o in self.outlets.values()
        ]


def _article(story: dict[str, Any], version: dict[str, Any], outlet: Outlet) -> DemoArticle:
    text = story["body"].strip()
    edit = version.get("edit")
    if edit:
        if edit["from"] not in text:
            raise ValueError(f"story {story['id']}: edit for {outlet.id} does not apply: {edit['from']!r}")
        text = text.replace(edit["from"], edit["to"])
    if version.get("footer"):
        text = f"{text}\n\n{version['footer']}"
    slug = story["id"]
    return DemoArticle(
        story=slug,
        outlet=outlet.id,
        title=version["headline"],
        text=text,
        link=f"https://{outlet.host}/news/{slug}?utm_source=rss&utm_medium=feed",
        at=timedelta(minutes=version["at"]),
    )


def render_rss(outlet: Outlet, articles: Iterable[DemoArticle], start: datetime) -> bytes:
    """An RSS 2.0 document of `articles` (newest first), published at `start` + each article's offset."""
    items = [
        rss_item(
            a.title,
            a.link,
            f"{outlet.id}:{a.story}",
            start + a.at,
            "".join(f"<p>{escape(p)}</p>" for p in a.text.split("\n\n")),
        )
        for a in sorted(articles, key=lambda a: a.at, reverse=True)
    ]
    return rss_document(
        outlet.name, f"https://{outlet.host}/", f"{outlet.name} (Watchfloor demo)", "en", items
    )
