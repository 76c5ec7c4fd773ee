"""Visible -> Kafka for pushed vs polled feeds, side by side in one run.

Local feeds served by a local publisher (tests.support.feedserver): half announce a local WebSub hub
(tests.support.websubhub), half do not. For ``--seconds`` a new entry appears in a random feed every
``--every`` seconds; for a pushed feed the publisher then pings the hub, which distributes the feed
at once (a real hub adds its own delay, typically seconds). The ingester (the real Ingester, fetcher,
WebSub subscriber and callback server, publishing to a fresh Kafka topic with acks=all) runs as in
production, polls at the registry's 30 s floor, relaxed for pushed feeds. Measured per item: Kafka's
record timestamp minus the moment the entry became visible. Needs `watchfloor stack up`.

Visible -> searchable and visible -> webhook, through the pipeline and the notifier, are measured by
bench.websub_e2e, which reuses this module's feeds, publishing loop and ingester.

    .venv/bin/python -m bench.websub [--feeds 10] [--seconds 150] [--every 1.5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial

import httpx
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.feeds.http import Fetcher, checked_transport
from connectors.feeds.ingest import Ingester
from connectors.feeds.publish import ItemPublisher
from connectors.feeds.statestore import MemoryStateStore
from connectors.feeds.websub.callback import CallbackServer
from connectors.feeds.websub.endpoint import push_endpoint
from connectors.feeds.websub.subscriber import MemoryTable, Subscriber, SubscriberPolicy
from connectors.stack.process import free_port
from schemas.feed import FeedConfig
from schemas.settings import StackSettings
from schemas.topics import DEAD_LETTERS
from tests.support.feeds import rss
from tests.support.feedserver import LOOPBACK, FeedServer, Route
from tests.support.websubhub import Hub, announcing_hub


def _body(feed_id: str, count: int, hub: str | None, url: str) -> bytes:
    return announcing_hub(rss(feed_id, count, start=0), hub, url)


def _feed_body(hub: str, feed: FeedConfig, count: int) -> bytes:
    return _body(feed.id, count, hub if is_pushed(feed.id) else None, feed.url)


def is_pushed(feed_id: str) -> bool:
    return feed_id.startswith("push-")


def local_feeds(
    server: FeedServer, per_side: int, run: str, body: Callable[[FeedConfig, int], bytes]
) -> list[FeedConfig]:
    """``per_side`` feeds announcing the hub (ids ``push-…``) and as many that do not (``poll-…``),
    served with their first entry; polled at the registry's 30 s floor."""
    feeds = []
    for n in range(2 * per_side):
        feed_id = f"{'push' if n % 2 else 'poll'}-{run}-{n:02d}"
        url = server.url(f"/{feed_id}.xml")
        feed = FeedConfig(id=feed_id, url=url, name=feed_id, min_interval_s=30, max_interval_s=60)
        server.route(f"/{feed_id}.xml", Route(body=body(feed, 1)))
        feeds.append(feed)
    return feeds


def publish_for(
    seconds: float,
    every: float,
    feeds: list[FeedConfig],
    server: FeedServer,
    hub: Hub,
    body: Callable[[FeedConfig, int], bytes],
) -> dict[tuple[str, int], float]:
    """For ``seconds``, a new entry in a random feed every ``every`` s on average (``body(feed, n)`` is
    the feed holding n entries, each feed holding one at the start), the hub pinged at once for a
    pushed feed. Returns (feed id, entry number) -> the wall time the entry became visible."""
    rng = random.Random(7)
    counts = dict.fromkeys((feed.id for feed in feeds), 1)
    visible: dict[tuple[str, int], float] = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        feed = rng.choice(feeds)
        n = counts[feed.id]
        document = body(feed, n + 1)
        server.route(f"/{feed.id}.xml", Route(body=document))
        visible[(feed.id, n)] = time.time()
        counts[feed.id] = n + 1
        if is_pushed(feed.id):
            threading.Thread(target=hub.publish, args=(feed.url, document), daemon=True).start()
        time.sleep(rng.expovariate(1 / every))
    return visible


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    q = statistics.quantiles(values, n=20)
    return f"p50 {statistics.median(values):6.2f} s   p95 {q[18]:6.2f} s   (n={len(values)})"


@contextmanager
def running_ingester(feeds: list[FeedConfig], bootstrap: str, topic: str) -> Iterator[None]:
    """The real Ingester with its WebSub subscriber and callback server, publishing to ``topic``, until
    the block ends; entered once every pushed feed's subscription is verified (or after 60 s)."""
    pushed = sum(is_pushed(feed.id) for feed in feeds)
    publisher = ItemPublisher(bootstrap, topic, DEAD_LETTERS.name)
    fetcher = Fetcher(LOOPBACK)
    client = httpx.Client(transport=checked_transport(LOOPBACK), follow_redirects=False)
    port = free_port()
    subscriber = Subscriber(MemoryTable(), SubscriberPolicy(f"http://127.0.0.1:{port}/websub"), client)
    ingester = Ingester(feeds, fetcher, publisher, MemoryStateStore(), workers=4, websub=subscriber)
    callback = CallbackServer(("127.0.0.1", port), subscriber.verify, push_endpoint(subscriber, ingester))
    callback.start()
    stop = threading.Event()
    loop = threading.Thread(target=ingester.run_forever, args=(stop,), daemon=True)
    loop.start()
    try:
        deadline = time.monotonic() + 60
        while (
            len([s for s in subscriber.subscriptions() if s.expires]) < pushed and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        yield
    finally:
        stop.set()
        loop.join(120)
        callback.close()
        publisher.close()
        fetcher.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=10, help="feeds per side")
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--every", type=float, default=1.5)
    args = parser.parse_args()
    bootstrap = StackSettings().kafka_bootstrap
    run = uuid.uuid4().hex[:6]
    topic = f"bench-websub-{run}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 3, 1)])
    admin.close()

    with FeedServer() as server, Hub() as hub:
        feeds = local_feeds(server, args.feeds, run, partial(_feed_body, hub.url))
        with running_ingester(feeds, bootstrap, topic):
            print(f"{args.feeds} pushed feeds subscribed; publishing for {args.seconds:g} s")
            body = partial(_feed_body, hub.url)
            entries = publish_for(args.seconds, args.every, feeds, server, hub, body)
            visible = {f"{feed_id}-{n}": at for (feed_id, n), at in entries.items()}
            time.sleep(65)  # the last polled entries' polls (the 30-60 s interval)

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in range(3)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    latency: dict[str, list[float]] = {"push": [], "poll": []}
    while any(consumer.position(tp) < ends[tp] for tp in tps):
        for batch in consumer.poll(timeout_ms=1000).values():
            for record in batch:
                guid = json.loads(record.value)["guid"]
                if guid in visible:
                    latency[guid.split("-", 1)[0]].append(record.timestamp / 1000 - visible[guid])
    consumer.close()
    missing = len(visible) - sum(len(v) for v in latency.values())
    print(
        f"{datetime.now(UTC):%Y-%m-%d}  visible -> Kafka, {len(visible)} new entries ({missing} not in Kafka)"
    )
    print(f"  pushed (WebSub): {percentiles(latency['push'])}")
    print(f"  polled (30 s floor): {percentiles(latency['poll'])}")


if __name__ == "__main__":
    main()
