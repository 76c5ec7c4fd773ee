"""WebSub end to end: a `watchfloor ingest` process, a local hub of our own (tests/support/websubhub.py)
and a local publisher (the feed server), with the real broker.

A feed announcing a hub is subscribed; what the hub pushes reaches the items topic keyed and valued as
a poll would have published it; replays, forged, unsigned, huge and hostile pushes each have a clear
outcome and lose nothing; a hub that never verifies is given up on (polling carries on); leases are
renewed; a disabled feed is unsubscribed. And end to end: a pushed entry goes through the pipeline
(its own process) and `watchfloor notify` to a webhook sink.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.feeds.digest import DigestRequest, digest
from connectors.stack.local import LocalStack
from connectors.stack.process import free_port
from schemas.feed import FeedConfig
from schemas.topics import DEAD_LETTERS, ITEMS, STATE
from tests.support.feeds import rss
from tests.support.feedserver import LOOPBACK_ENV, FeedServer, Route
from tests.support.newsevents import NewsEvents, news_rss
from tests.support.notifyprocess import notify_process, story_urls
from tests.support.pipeline import JobEnv, stop
from tests.support.receiver import Receiver
from tests.support.websubhub import Hub, announcing_hub

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 60


def hub_rss(feed_id: str, hub: str, self_url: str, count: int) -> bytes:
    """The fixture RSS feed with ``count`` items, announcing ``hub``."""
    return announcing_hub(rss(feed_id, count), hub, self_url)


def feed_route(body: bytes) -> Route:
    return Route(body=body, headers={"Content-Type": "application/rss+xml"})  # as the hub pushes it


def wait_for(what: str, check: Callable[[], object], timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def records(
    bootstrap: str, topic: str, match: Callable[[bytes | None, bytes | None], bool]
) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of ``topic`` that ``match`` keeps, read from the start to the current end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    deadline = time.monotonic() + DEADLINE_S
    while not (partitions := consumer.partitions_for_topic(topic)) and time.monotonic() < deadline:
        consumer.poll(timeout_ms=100)  # the topic's metadata is not known yet
    tps = [TopicPartition(topic, p) for p in partitions or ()]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    found = []
    while any(consumer.position(tp) < ends[tp] for tp in tps):
        for batch in consumer.poll(timeout_ms=500).values():
            found += [(r.key, r.value) for r in batch if match(r.key, r.value)]
    consumer.close()
    return found


def items_of(bootstrap: str, feed_id: str) -> list[tuple[str, dict[str, object]]]:
    def ours(_key: bytes | None, value: bytes | None) -> bool:
        return value is not None and f'"feed_id":"{feed_id}"' in value.decode()

    return [(k.decode(), json.loads(v)) for k, v in records(bootstrap, ITEMS.name, ours)]


def subscription(bootstrap: str, topic: str, feed_id: str) -> dict[str, object] | None:
    key = f"websub:{feed_id}".encode()
    rows = records(bootstrap, topic, lambda k, _v: k == key)
    return json.loads(rows[-1][1]) if rows and rows[-1][1] else None


class Ingest:
    """A `watchfloor ingest` process with the WebSub callback on a free loopback port."""

    def __init__(
        self,
        tmp_path: Path,
        feeds: list[dict[str, object]],
        state_topic: str,
        port: int | None = None,
        **env: str,
    ) -> None:
        self.port = port or free_port()  # a restart keeps its public URL
        (tmp_path / "registry.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
        self.log = tmp_path / f"ingest-{time.monotonic_ns()}.log"
        self.callback_base = f"http://127.0.0.1:{self.port}/websub"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "connectors",
                "ingest",
                "--registry",
                str(tmp_path / "registry.yaml"),
                "--websub-listen",
                f"127.0.0.1:{self.port}",
                "--websub-public-url",
                self.callback_base,
            ],
            cwd=REPO,
            env={
                **os.environ,
                **LOOPBACK_ENV,
                "WATCHFLOOR_INGEST_GROUP_ID": f"wf-ws-{uuid.uuid4().hex[:6]}",
                "WATCHFLOOR_INGEST_STATE_TOPIC": state_topic,
                **env,
            },
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)

    def logged(self, message: str) -> bool:
        return any(
            json.loads(line).get("message") == message
            for line in self.log.read_text().splitlines()
            if line.startswith("{")
        )


@pytest.fixture
def state_topic(stack: LocalStack) -> str:
    """A compacted state topic of the test's own: a restarted ingester then sees only this test's
    subscriptions (it unsubscribes every one whose feed left the registry)."""
    name = f"wf-ws-state-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=stack.settings.kafka_bootstrap)
    admin.create_topics([NewTopic(name, STATE.partitions, 1, topic_configs=STATE.configs)])
    admin.close()
    return name


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


def _feed(feed_id: str, url: str, **extra: object) -> dict[str, object]:
    return {"id": feed_id, "url": url, "name": feed_id, "min_interval_s": 30, "max_interval_s": 60, **extra}


def test_pushed_items_are_published_as_a_poll_would_and_bad_pushes_lose_nothing(
    stack: LocalStack, server: FeedServer, tmp_path: Path, state_topic: str
) -> None:
    bootstrap = stack.settings.kafka_bootstrap
    feed_id = f"ws-{uuid.uuid4().hex[:6]}"
    url = server.url(f"/{feed_id}.xml")
    with Hub() as hub:
        server.route(f"/{feed_id}.xml", feed_route(hub_rss(feed_id, hub.url, url, 2)))
        ingest = Ingest(tmp_path, [_feed(feed_id, url)], state_topic)
        try:
            wait_for("the poll's items", lambda: len(items_of(bootstrap, feed_id)) == 2)
            wait_for("a verified subscription", lambda: hub.active(url))
            assert hub.requests[0]["hub.callback"].startswith(ingest.callback_base + "/")
            assert len(hub.requests[0]["hub.secret"]) >= 32

            # A new entry appears and the hub pushes the feed: the item is in Kafka when the hub is answered.
            pushed = hub_rss(feed_id, hub.url, url, 3)
            server.route(f"/{feed_id}.xml", feed_route(pushed))
            assert hub.publish(url, pushed) == [202]
            items = dict(items_of(bootstrap, feed_id))
            assert len(items) == 3
            feed = FeedConfig.model_validate(_feed(feed_id, url))
            polled = digest(
                DigestRequest(pushed, {"content-type": "application/rss+xml"}, url, feed, datetime.now(UTC))
            )
            as_polled = {r.item_id: json.loads(r.value) for r in polled.items}
            assert set(as_polled) == set(items)
            for item_id, value in items.items():
                differs = {k for k in value if value[k] != as_polled[item_id][k]}
                assert differs <= {"fetched"}, (item_id, differs)

            # Replayed: acknowledged, nothing published twice.
            assert hub.publish(url, pushed) == [202]
            assert len(items_of(bootstrap, feed_id)) == 3

            # Forged or unsigned: acknowledged (the forger learns nothing) but ignored.
            forged = hub_rss(feed_id, hub.url, url, 4)
            assert hub.publish(url, forged, signature="wrong") == [202]
            assert hub.publish(url, forged, signature="none") == [202]
            assert len(items_of(bootstrap, feed_id)) == 3

            # Huge: refused before it is read. Hostile (signed, but not a feed): dead-lettered.
            assert hub.publish(url, b"<rss>" + b"x" * (3 * 1024 * 1024)) == [413]
            hostile = b"<!DOCTYPE html><html><body>" + b"<p>not a feed</p>" * 1000 + b"</body></html>"
            assert hub.publish(url, hostile, content_type="text/html") == [202]
            origin = f'"origin":"feed:{feed_id}"'.encode()
            dead = records(bootstrap, DEAD_LETTERS.name, lambda _k, v: origin in (v or b""))
            assert len(dead) == 1 and b"not_a_feed" in dead[0][1], "the hostile body is dead-lettered"

            # Nothing lost: the item the forged pushes carried arrives with the next authentic push.
            assert hub.publish(url, forged) == [202]
            guids = [str(value["guid"]) for _, value in items_of(bootstrap, feed_id)]
            assert sorted(guids) == [f"{feed_id}-{n}" for n in range(4)]
        finally:
            ingest.stop()

        # Disabled in the registry: the restarted ingester unsubscribes, and old pushes get 410 Gone.
        callback = hub.active(url)[0].callback
        ingest = Ingest(tmp_path, [_feed(feed_id, url, enabled=False)], state_topic, port=ingest.port)
        try:
            wait_for("the unsubscription", lambda: not hub.active(url))
            assert hub.verified[-1]["hub.mode"] == "unsubscribe"
            assert httpx.post(callback, content=b"x", timeout=10).status_code == 410
        finally:
            ingest.stop()


def test_a_hub_that_never_verifies_is_given_up_on_and_polling_carries_on(
    stack: LocalStack, server: FeedServer, tmp_path: Path, state_topic: str
) -> None:
    bootstrap = stack.settings.kafka_bootstrap
    feed_id = f"ws-{uuid.uuid4().hex[:6]}"
    url = server.url(f"/{feed_id}.xml")
    with Hub(verifies=False) as hub:
        server.route(f"/{feed_id}.xml", feed_route(hub_rss(feed_id, hub.url, url, 2)))
        ingest = Ingest(
            tmp_path, [_feed(feed_id, url)], state_topic, WATCHFLOOR_INGEST_WEBSUB_VERIFY_TIMEOUT_S="2"
        )
        try:
            wait_for("the subscription request", lambda: hub.requests)
            wait_for("giving up", lambda: ingest.logged("websub hub did not verify in time"))
            sub = subscription(bootstrap, state_topic, feed_id)
            assert sub is not None and sub["pending"] is None and sub["expires"] is None
            assert sub["failures"] == 1 and "did not verify" in str(sub["last_error"])
            assert len(items_of(bootstrap, feed_id)) == 2  # the poll's items, as without WebSub
        finally:
            ingest.stop()


def test_a_lease_is_renewed_before_it_ends_and_an_expired_one_gets_no_pushes(
    stack: LocalStack, server: FeedServer, tmp_path: Path, state_topic: str
) -> None:
    feed_id = f"ws-{uuid.uuid4().hex[:6]}"
    url = server.url(f"/{feed_id}.xml")
    with Hub(lease_s=62) as hub:  # renewal is due a minute before the end: two seconds after
        server.route(f"/{feed_id}.xml", feed_route(hub_rss(feed_id, hub.url, url, 1)))
        ingest = Ingest(tmp_path, [_feed(feed_id, url)], state_topic)
        try:
            wait_for("two verified subscribe requests", lambda: len(hub.verified) >= 2)
            first, renewal = hub.verified[:2]
            assert first["hub.mode"] == renewal["hub.mode"] == "subscribe"
            assert renewal["hub.callback"] == first["hub.callback"]
            assert renewal["hub.secret"] == first["hub.secret"]
            hub.expire(url)
            assert hub.publish(url, hub_rss(feed_id, hub.url, url, 2)) == []
        finally:
            ingest.stop()


def test_a_pushed_entry_reaches_the_webhook_sink_through_the_pipeline_and_the_notifier(
    stack: LocalStack, server: FeedServer, tmp_path: Path, state_topic: str
) -> None:
    """Issue J's done-criterion end to end: ingest -> pipeline -> notify for a feed that announces a hub,
    its new entry carried by the push alone."""
    job = JobEnv(stack.settings)
    job.create_topics()
    feed_id = f"ws-e2e-{job.run}"
    path = f"/{feed_id}.xml"
    url = server.url(path)
    events = NewsEvents()
    entries = [events.entry(feed_id, 0)]
    with Hub() as hub, Receiver() as sink:

        def document() -> bytes:
            return announcing_hub(news_rss(feed_id, entries), hub.url, url)

        server.route(path, feed_route(document()))
        pipeline = job.start_pipeline(tmp_path / "pipeline.log")
        notifier = notify_process(job, tmp_path, sink.url("/hook"))
        ingest = Ingest(
            tmp_path, [_feed(feed_id, url)], state_topic, WATCHFLOOR_INGEST_ITEMS_TOPIC=job.items_topic
        )
        try:
            wait_for("a verified subscription", lambda: hub.active(url))
            # The polled first entry warms the chain (the pipeline's start-up is most of this wait).
            wait_for("the first entry's story", lambda: entries[0].link in story_urls(sink, "/hook"), 300)
            # The new entry is in what the hub pushes only: a poll cannot be what brings it.
            entries.append(events.entry(feed_id, 1))
            assert hub.publish(url, document()) == [202]
            wait_for("the pushed entry's story", lambda: entries[1].link in story_urls(sink, "/hook"), 120)
        finally:
            ingest.stop()
            stop(notifier)
            stop(pipeline)
