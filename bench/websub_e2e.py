"""Visible -> searchable and visible -> webhook, pushed vs polled feeds, side by side in one run (issue J).

The whole chain: local feeds (tests.support.feedserver), half announcing a local WebSub hub
(tests.support.websubhub) -> the real Ingester with its WebSub callback (bench.websub) -> Kafka ->
`watchfloor pipeline run` (its own process, Prism) -> Elasticsearch and the alerts topic -> `watchfloor
notify` (its own process, one signed webhook destination, story granularity, `--coalesce` as its
coalesce_s) -> a local webhook sink (tests.support.receiver) that records arrival times.

Each new entry is a distinct news event that raises an alert as a story of its own
(tests.support.newsevents), so each should make one webhook message. Per entry, from the moment it
appeared in its feed: searchable = a search of the articles index (every 0.1 s) first finds its
article; webhook = the sink received the story message carrying its URL. Where the time goes: the
medians of the item's record timestamp on the items topic and of its story's first alert on the alerts
topic. An entry lost is one not searchable (or with no webhook) when the run ends.

    .venv/bin/python -m bench.websub_e2e [--feeds 5] [--seconds 180] [--every 2] [--coalesce 5]

Needs `watchfloor stack up`; topics, indices, consumer groups and the destination id are per run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import ApiError, Elasticsearch
from kafka import KafkaConsumer, TopicPartition

from bench.websub import is_pushed, local_feeds, percentiles, publish_for, running_ingester
from schemas.feed import FeedConfig
from schemas.settings import StackSettings
from tests.support.feedserver import FeedServer
from tests.support.newsevents import NewsEntry, NewsEvents, news_rss
from tests.support.notifyprocess import notify_process, story_urls
from tests.support.pipeline import JobEnv, stop
from tests.support.receiver import Receiver
from tests.support.websubhub import Hub, announcing_hub

KEEP = 30
"""Entries a feed document holds (the newest), as publishers trim theirs."""


class NewsFeeds:
    """Each feed's entries, made as the publishing loop asks for them; their documents, hub announced
    for pushed feeds."""

    def __init__(self, hub: str) -> None:
        self.hub = hub
        self.events = NewsEvents()
        self.entries: dict[str, list[NewsEntry]] = {}
        self.links: list[str] = []

    def body(self, feed: FeedConfig, count: int) -> bytes:
        entries = self.entries.setdefault(feed.id, [])
        while len(entries) < count:
            entries.append(self.events.entry(feed.id, len(entries)))
            self.links.append(entries[-1].link)
        document = news_rss(feed.id, entries[-KEEP:])
        return announcing_hub(document, self.hub if is_pushed(feed.id) else None, feed.url)


class SearchWatch:
    """Searches the articles index every 0.1 s for the entries' URLs not found yet (``urls()``: those
    in the feeds so far); when each was first found."""

    def __init__(self, es: Elasticsearch, index: str, urls: Callable[[], list[str]]) -> None:
        self.es, self.index, self.urls = es, index, urls
        self.found: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                pending = sorted(set(self.urls()) - self.found.keys())
            if not pending:
                continue
            try:
                hits = self.es.search(
                    index=self.index,
                    size=len(pending),
                    source={"includes": ["url.full"]},
                    query={"terms": {"url.full": pending}},
                )["hits"]["hits"]
            except ApiError:  # the index is created with the first article
                continue
            now = time.time()
            with self._lock:
                for hit in hits:
                    self.found.setdefault(hit["_source"]["url"]["full"], now)

    @contextmanager
    def running(self) -> Iterator[SearchWatch]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(10)


def first_timestamps(
    bootstrap: str, topic: str, url_of: Callable[[dict[str, object]], object]
) -> dict[str, float]:
    """URL (by ``url_of`` on each record's JSON value) -> the earliest record timestamp in ``topic``."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    first: dict[str, float] = {}
    while any(consumer.position(tp) < ends[tp] for tp in tps):
        for batch in consumer.poll(timeout_ms=1000).values():
            for record in batch:
                url = url_of(json.loads(record.value))
                if isinstance(url, str):
                    first[url] = min(first.get(url, record.timestamp / 1000), record.timestamp / 1000)
    consumer.close()
    return first


def _alert_url(alert: dict[str, object]) -> object:
    url = alert.get("url")
    return url.get("full") if isinstance(url, dict) else None


def _wait(what: str, condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


def _row(name: str, values: list[float], wanted: int) -> str:
    return f"  {name:<22} {percentiles(values)}   lost {wanted - len(values)}"


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=5, help="feeds per side")
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--every", type=float, default=2)
    parser.add_argument("--coalesce", type=float, default=5, help="the destination's coalesce_s")
    args = parser.parse_args()
    settings = StackSettings()
    job = JobEnv(settings)
    job.create_topics()
    workdir = Path(f"/tmp/watchfloor-bench-websub-e2e-{job.run}")
    workdir.mkdir()
    es = Elasticsearch(settings.es_url, request_timeout=30)
    hook = "/hook"
    with FeedServer() as server, Hub() as hub, Receiver() as sink:
        news = NewsFeeds(hub.url)
        feeds = local_feeds(server, args.feeds, job.run, news.body)
        pipeline = job.start_pipeline(workdir / "pipeline.log")
        notifier = notify_process(job, workdir, sink.url(hook), args.coalesce)
        watch = SearchWatch(es, job.articles_index, lambda: news.links[:])
        try:
            with running_ingester(feeds, settings.kafka_bootstrap, job.items_topic), watch.running():
                # Warm-up: every feed's first entry (polled at start) through to the sink.
                firsts = [entries[0].link for entries in news.entries.values()]
                _wait("the first entries' webhooks", lambda: len(story_urls(sink, hook)) >= len(firsts), 300)
                print(f"chain warm; publishing for {args.seconds:g} s, {args.feeds} feeds a side")
                visible_at = publish_for(args.seconds, args.every, feeds, server, hub, news.body)
                visible = {news.entries[feed_id][n].link: at for (feed_id, n), at in visible_at.items()}
                # The last polled entries: a poll within 60 s, then the pipeline and the notifier.
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and not (
                    visible.keys() <= story_urls(sink, hook).keys() & watch.found.keys()
                ):
                    time.sleep(0.5)
        finally:
            stop(notifier)
            stop(pipeline)
    searchable, delivered = watch.found, story_urls(sink, hook)
    in_kafka = first_timestamps(settings.kafka_bootstrap, job.items_topic, lambda item: item.get("url"))
    alerted = first_timestamps(settings.kafka_bootstrap, job.alerts_topic, _alert_url)
    es.close()

    print(f"{datetime.now(UTC):%Y-%m-%d}  {len(visible)} new entries, logs in {workdir}")
    for pushed, label in ((True, "pushed (WebSub)"), (False, "polled (30 s floor)")):
        urls = [url for url in visible if is_pushed(url.removeprefix("https://")) == pushed]
        print(f"{label}: {len(urls)} entries")
        for name, seen in (
            ("visible -> Kafka", in_kafka),
            ("visible -> alert topic", alerted),
            ("visible -> searchable", searchable),
            ("visible -> webhook", delivered),
        ):
            print(_row(name, sorted(seen[u] - visible[u] for u in urls if u in seen), len(urls)))
        hold = [delivered[u] - alerted[u] for u in urls if u in delivered and u in alerted]
        if hold:
            print(f"  alert topic -> webhook  p50 {statistics.median(hold):6.2f} s (the notifier)")


if __name__ == "__main__":
    main()
