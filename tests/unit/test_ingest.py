"""The ingester end to end over real local HTTP, with an in-memory state store and a recording publisher."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.feeds.digest import ItemRecord
from connectors.feeds.http import Fetcher
from connectors.feeds.ingest import Ingester
from connectors.feeds.statestore import MemoryStateStore
from schemas.deadletter import DeadLetter
from schemas.feed import FeedConfig
from schemas.item import FeedItem
from tests.support.feeds import rss
from tests.support.feedserver import LOOPBACK, FeedServer, Route


class RecordingPublisher:
    def __init__(self) -> None:
        self.items: list[FeedItem] = []
        self.dead: list[DeadLetter] = []
        self.fail = False

    def publish(self, items: Sequence[ItemRecord], dead_letters: Sequence[DeadLetter] = ()) -> None:
        if self.fail:
            raise RuntimeError("broker unavailable")
        for record in items:
            item = FeedItem.model_validate_json(record.value)
            assert item.item_id == record.item_id  # the Kafka key is the item's id
            self.items.append(item)
        self.dead += dead_letters


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


def _feed(server: FeedServer, feed_id: str) -> FeedConfig:
    return FeedConfig(
        id=feed_id, url=server.url(f"/{feed_id}"), name=feed_id, min_interval_s=60, max_interval_s=600
    )


def _ingester(
    feeds: list[FeedConfig], publisher: RecordingPublisher, store: MemoryStateStore, **policy: float
) -> Ingester:
    fetcher = Fetcher(
        replace(
            LOOPBACK, total_timeout_s=policy.get("total", 5.0), max_body_bytes=int(policy.get("cap", 1 << 20))
        )
    )
    return Ingester(feeds, fetcher, publisher, store, workers=4)


def _drip() -> Iterator[bytes]:
    for _ in range(100):
        time.sleep(0.1)
        yield b" "


def _bomb() -> Iterator[bytes]:
    yield gzip.compress(b"\0" * (64 << 20))  # 64 MiB of zeros in ~64 KiB


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "ha">'
    + b"".join(b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10) for n in range(1, 10))
    + b']><rss version="2.0"><channel><title>&l9;</title><item><title>x</title><link>https://e.example/1</link>'
    b"</item></channel></rss>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    b'<rss version="2.0"><channel><title>t</title><item><title>&x;</title><link>https://e.example/2</link>'
    b"</item></channel></rss>"
)

HOSTILE: dict[str, tuple[Route, str | None]] = {
    "malformed": (
        Route(body=b"<rss><channel><title>broken</chan", headers={"Content-Type": "application/rss+xml"}),
        "malformed",
    ),
    "html-page": (
        Route(body=b"<html><body><p>Subscribe!</p></body></html>", headers={"Content-Type": "text/html"}),
        "not_a_feed",
    ),
    "empty": (Route(body=b"", headers={"Content-Type": "application/rss+xml"}), "not_a_feed"),
    "huge": (Route(body=lambda: iter([b"x" * 65536] * 2000)), "too_large"),
    "slow-drip": (Route(body=_drip), "timeout"),
    "gzip-bomb": (Route(body=_bomb, headers={"Content-Encoding": "gzip"}), "decompression"),
    "server-error": (Route(status=500, body=b"oops"), "http_status"),
    "billion-laughs": (Route(body=BILLION_LAUGHS, headers={"Content-Type": "application/rss+xml"}), None),
    "xxe": (Route(body=XXE, headers={"Content-Type": "application/rss+xml"}), None),
}


def test_hostile_feeds_fail_alone_with_a_clear_error_and_good_feeds_carry_on(server: FeedServer) -> None:
    server.route("/redirect-loop", Route(status=302, headers={"Location": "/redirect-loop-2"}))
    server.route("/redirect-loop-2", Route(status=302, headers={"Location": "/redirect-loop"}))
    feeds = [_feed(server, "good-a"), _feed(server, "good-b"), _feed(server, "redirect-loop")]
    server.route("/good-a", Route(body=rss("good-a", 5), headers={"Content-Type": "application/rss+xml"}))
    server.route("/good-b", Route(body=rss("good-b", 5), headers={"Content-Type": "application/rss+xml"}))
    for name, (route, _) in HOSTILE.items():
        server.route(f"/{name}", route)
        feeds.append(_feed(server, name))
    publisher, store = RecordingPublisher(), MemoryStateStore()
    ingester = _ingester(feeds, publisher, store, total=1.5, cap=1 << 20)

    outcomes = dict(zip([f.id for f in feeds], [None] * len(feeds), strict=True))
    for feed, outcome in zip(ingester.due(datetime.now(UTC)), ingester.run_once(), strict=True):
        outcomes[feed.id] = outcome

    assert outcomes["good-a"].kind == outcomes["good-b"].kind == "ok"
    assert {i.guid for i in publisher.items if i.feed_id.startswith("good")} == {
        f"good-{x}-{n}" for x in "ab" for n in range(5)
    }
    assert outcomes["redirect-loop"].error_kind == "redirect_loop"
    for name, (_, kind) in HOSTILE.items():
        if kind:
            assert outcomes[name].kind == "error", name
            assert outcomes[name].error_kind == kind, (name, outcomes[name])
            state = store.get(name)
            assert state and state.consecutive_failures == 1 and kind in (state.last_error or "")
    # Entity attacks: parsed without expansion or file contents, never a crash.
    hostname = Path("/etc/hostname").read_text().strip()
    for name in ("billion-laughs", "xxe"):
        assert outcomes[name].kind in ("ok", "error")
    titles = " ".join(i.title for i in publisher.items)
    assert "haha" not in titles
    assert not hostname or hostname not in titles
    # Bad bodies are dead-lettered with the reason.
    rejected = {d.origin for d in publisher.dead if d.stage == "FetchFeed"}
    assert {"feed:malformed", "feed:html-page", "feed:empty"} <= rejected
    assert ingester.metrics.poll_errors.labels("timeout")._value.get() == 1


def test_state_advances_only_after_a_successful_publish(server: FeedServer) -> None:
    server.route("/f", Route(body=rss("f", 3), etag='"v1"', headers={"Content-Type": "application/rss+xml"}))
    feed = _feed(server, "f")
    publisher, store = RecordingPublisher(), MemoryStateStore()
    ingester = _ingester([feed], publisher, store)

    publisher.fail = True
    assert ingester.poll(feed).error_kind == "publish"
    state = store.get("f")
    assert state and state.etag is None and state.recent_ids == []  # nothing recorded as done

    publisher.fail = False
    assert ingester.poll(feed).new_items == 3  # a full GET again, not a 304
    assert server.requests[-1].headers.get("if-none-match") is None
    state = store.get("f")
    assert state and state.etag == '"v1"' and len(state.recent_ids) == 3

    assert ingester.poll(feed).kind == "not_modified"
    assert len(publisher.items) == 3


def test_a_pushed_body_that_is_not_a_feed_is_answered_as_a_publish_error_until_its_dead_letter_is_acked(
    server: FeedServer,
) -> None:
    feed = _feed(server, "f")
    publisher, store = RecordingPublisher(), MemoryStateStore()
    ingester = _ingester([feed], publisher, store)
    html = b"<!DOCTYPE html><html><body><p>not a feed</p></body></html>"

    publisher.fail = True  # the callback answers 503 to a publish error: the hub delivers it again
    assert ingester.push(feed, html, {"content-type": "text/html"}, feed.url).error_kind == "publish"
    assert publisher.dead == []

    publisher.fail = False
    assert ingester.push(feed, html, {"content-type": "text/html"}, feed.url).error_kind == "not_a_feed"
    assert [d.origin for d in publisher.dead] == ["feed:f"]


def test_republished_items_are_not_published_twice_and_new_ones_are(server: FeedServer) -> None:
    server.route("/f", Route(body=rss("f", 3), headers={"Content-Type": "application/rss+xml"}))
    feed = _feed(server, "f")
    publisher, store = RecordingPublisher(), MemoryStateStore()
    ingester = _ingester([feed], publisher, store)
    ingester.poll(feed)
    server.route("/f", Route(body=rss("f", 4), headers={"Content-Type": "application/rss+xml"}))
    assert ingester.poll(feed).new_items == 1
    assert sorted(i.guid for i in publisher.items) == ["f-0", "f-1", "f-2", "f-3"]


def test_guids_that_change_every_fetch_switch_the_feed_to_link_ids(server: FeedServer) -> None:
    body = rss("f", 3)
    server.route("/f", Route(body=body, headers={"Content-Type": "application/rss+xml"}))
    feed = _feed(server, "f")
    publisher, store = RecordingPublisher(), MemoryStateStore()
    ingester = _ingester([feed], publisher, store)
    ingester.poll(feed)
    server.route(
        "/f",
        Route(body=body.replace(b">f-", b">f-regenerated-"), headers={"Content-Type": "application/rss+xml"}),
    )
    ingester.poll(feed)
    state = store.get("f")
    assert state and state.guid_unstable
    again = ingester.poll(feed)
    assert again.new_items == 0
    assert len({i.url for i in publisher.items}) == 3


def test_gone_feed_is_disabled_and_no_longer_due(server: FeedServer) -> None:
    server.route("/f", Route(status=410, body=b"gone"))
    feed = _feed(server, "f")
    store = MemoryStateStore()
    ingester = _ingester([feed], RecordingPublisher(), store)
    ingester.run_once()
    state = store.get("f")
    assert state and state.disabled_reason and "410" in state.disabled_reason
    assert ingester.due(datetime.now(UTC) + timedelta(days=30)) == []


def test_run_forever_stops_on_request_after_draining(server: FeedServer) -> None:
    server.route("/f", Route(body=rss("f", 2), delay_s=0.5, headers={"Content-Type": "application/rss+xml"}))
    feed = _feed(server, "f")
    publisher, store = RecordingPublisher(), MemoryStateStore()
    ingester = _ingester([feed], publisher, store)
    stop = threading.Event()
    runner = threading.Thread(target=ingester.run_forever, args=(stop,), kwargs={"tick_s": 0.05})
    runner.start()
    while not server.hits("/f"):
        time.sleep(0.01)
    stop.set()  # mid-fetch
    runner.join(10)
    assert not runner.is_alive()
    assert len(publisher.items) == 2  # the in-flight poll finished and published
    assert store.get("f") is not None
