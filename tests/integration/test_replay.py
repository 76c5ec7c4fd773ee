"""A real news day through the real stack: served feeds → ingester → Kafka → Prism → Elasticsearch.

The day (../shared/corpora/news-day-2023-09-13, kept out of the repository) has hand-made gold stories;
this test checks that what the running job writes, not only what `watchfloor eval stories` computes,
puts one event's reports from many outlets into one story and keeps other news apart.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch

from connectors.corpus import CorpusEntry, feed_config, read_corpus, render_rss
from connectors.feeds.normalize import canonical_url
from connectors.stack.local import LocalStack
from pipeline.storyeval import bcubed
from schemas.topics import DEAD_LETTERS
from tests.support.feedserver import FeedServer, Route
from tests.support.pipeline import REPO, JobEnv, stop, wait_for

DEV_DAY = REPO.parent / "shared" / "corpora" / "news-day-2023-09-13"
EVENTS = ("kim-putin-summit-vostochny", "libya-derna-floods", "romney-retirement")
"""The day's biggest events that event clustering joins whatever the arrival order. Not Sevastopol: its
English reports form two clusters (the shipyard fire; the missile strike on the fleet) that share only
countries, and whether a report bridges them depends on arrival order (ADR 0006)."""
WAVES = 12
"""The day is polled in this many rounds (every 2 hours), each ingested and processed before the next."""

pytestmark = pytest.mark.skipif(
    not DEV_DAY.is_dir(), reason="../shared/corpora/news-day-2023-09-13 is absent"
)


def _serve(server: FeedServer, entries: list[CorpusEntry]) -> None:
    """Each outlet's feed as it stood once `entries` had been published (newest first, as feeds list)."""
    by_feed: dict[str, list[CorpusEntry]] = defaultdict(list)
    for entry in entries:
        by_feed[entry.feed].append(entry)
    for feed, items in by_feed.items():
        body = render_rss(feed, items[0].language, reversed(items))
        server.route(f"/{feed}.xml", Route(body=body, headers={"Content-Type": "application/rss+xml"}))


def _registry(server: FeedServer, entries: list[CorpusEntry], run: str, path: Path) -> Path:
    """Feeds under ids of their own (`run`): a feed polled by `ingest --once` is not due again for minutes,
    so each poll round registers the feeds afresh; the items it saw before are then exact duplicates."""
    languages = {e.feed: e.language for e in entries}
    feeds = [
        feed_config(f"{feed}-t{run}", language, server.url(f"/{feed}.xml")).model_dump(mode="json")
        for feed, language in sorted(languages.items())
    ]
    path.write_text(yaml.safe_dump({"feeds": feeds}))
    return path


def test_a_real_news_day_polled_through_the_stack_makes_one_story_per_event(
    stack: LocalStack, tmp_path: Path
) -> None:
    rows = read_corpus(DEV_DAY / "items.jsonl", DEV_DAY / "gold.jsonl")
    gold_of = {canonical_url(e.link): g for e, g in rows}
    entries = [e for e, _ in rows]
    job = JobEnv(stack.settings)
    job.create_topics()
    es = Elasticsearch(stack.settings.es_url)
    log = tmp_path / "pipeline.log"
    proc = job.start_pipeline(log)
    day = min(e.published for e in entries).replace(hour=0, minute=0, second=0)
    try:
        with FeedServer() as server:
            for wave in range(1, WAVES + 1):
                registry = _registry(server, entries, f"{job.run}-{wave}", tmp_path / "feeds.yaml")
                cutoff = day + timedelta(hours=24 * wave / WAVES)
                published = [e for e in entries if e.published < cutoff or wave == WAVES]
                _serve(server, published)
                job.ingest_once(registry)
                wait_for(
                    lambda: job.committed() == job.end_offsets(),
                    timeout=240,
                    what=f"poll {wave} of {WAVES} processed",
                    proc=proc,
                    status=lambda: f"{len(job.docs(es, job.articles_index))} articles",
                )
        time.sleep(2)  # a late extra write would show up by now
    finally:
        assert stop(proc) == 0, log.read_text()[-3000:]

    articles = job.docs(es, job.articles_index)
    # One WSJ article under two URLs is an exact duplicate; the rest are one article each.
    letters = [m for _, m in job.kafka_messages(DEAD_LETTERS.name) if m["origin"].startswith(job.items_topic)]
    assert len(articles) == len(rows) - 1, (letters[:3], log.read_text()[-3000:])
    assert len({a["article_id"] for a in articles}) == len(articles)
    # Stories merged after an article was written are found through the merging articles' records.
    survivor = {m: a["story_id"] for a in articles for m in a.get("merged_stories", [])}

    def final(story_id: str) -> str:
        while story_id in survivor:
            story_id = survivor[story_id]
        return story_id

    placed = [(final(a["story_id"]), gold_of[a["url"]["full"]].story) for a in articles]
    assert len(placed) == len(gold_of) - 1
    english: dict[str | None, Counter[str]] = defaultdict(Counter)
    for a in articles:
        if a["language"] == "en":
            english[gold_of[a["url"]["full"]].story][final(a["story_id"])] += 1
    # Reports in other languages join only through gazetteer names (ADR 0006): the check is on English.
    for event in EVENTS:
        ((main, largest),) = english[event].most_common(1)
        total = sum(english[event].values())
        assert largest >= total / 2, f"{event}: {sorted(english[event].values(), reverse=True)}"
        strangers = sum(1 for sid, gold in placed if sid == main and gold != event)
        assert strangers < largest, f"{event}'s story holds {strangers} items of other stories"
    labelled = [(sid, gold) for sid, gold in placed if gold is not None]
    score = bcubed([sid for sid, _ in labelled], [gold for _, gold in labelled])
    assert score.f1 >= 0.8 and score.precision >= 0.8, score
