"""The ingestion job against the real broker: crash-safety and scale-out, with feeds from a local server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from connectors.stack.local import LocalStack
from connectors.stack.process import free_port
from schemas.topics import DEAD_LETTERS, INGEST_LEASES, ITEMS, STATE
from tests.support.feeds import rss
from tests.support.feedserver import LOOPBACK_ENV, FeedServer, Route

REPO = Path(__file__).resolve().parents[2]
WATCHFLOOR = [sys.executable, "-m", "connectors"]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


def _registry(
    tmp_path: Path, server: FeedServer, run: str, feeds: int, items: int, delay_s: float
) -> list[str]:
    ids = [f"t{run}-{n:02d}" for n in range(feeds)]
    for feed_id in ids:
        server.route(f"/{feed_id}.xml", Route(body=rss(feed_id, items), delay_s=delay_s))
    entries = [
        {"id": i, "url": server.url(f"/{i}.xml"), "name": i, "min_interval_s": 30, "max_interval_s": 60}
        for i in ids
    ]
    (tmp_path / "registry.yaml").write_text(yaml.safe_dump({"feeds": entries}))
    return ids


def _published(bootstrap: str, feed_ids: set[str]) -> dict[str, set[str]]:
    """item key -> guids seen under it, for items of ``feed_ids``, read from the whole items topic."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    tps = [TopicPartition(ITEMS.name, p) for p in consumer.partitions_for_topic(ITEMS.name)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    found: dict[str, set[str]] = {}
    for rec in consumer:
        item = json.loads(rec.value)
        if isinstance(item, dict) and item.get("feed_id") in feed_ids:  # the topic is shared
            assert rec.key.decode() == item["item_id"]
            assert dict(rec.headers)["schema-version"] == b"1"
            found.setdefault(item["item_id"], set()).add(item["guid"])
    consumer.close()
    return found


def _ingest(
    tmp_path: Path, *args: str, group: str = "", log_name: str = "", env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **LOOPBACK_ENV,
        "WATCHFLOOR_INGEST_GROUP_ID": group or f"wf-test-{uuid.uuid4().hex[:6]}",
        **(env or {}),
    }
    log = (tmp_path / (log_name or f"ingest-{time.monotonic_ns()}.log")).open("wb")
    return subprocess.Popen(
        [*WATCHFLOOR, "ingest", "--registry", str(tmp_path / "registry.yaml"), *args],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _polled_feeds(log: Path) -> set[str]:
    polled = set()
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry["message"] == "feed polled":
                polled.add(entry["feed.id"])
    return polled


def test_sigkill_mid_run_then_restart_loses_no_item(
    stack: LocalStack, server: FeedServer, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    ids = _registry(tmp_path, server, run, feeds=24, items=30, delay_s=0.5)
    expected = {f"{i}-{n}" for i in ids for n in range(30)}

    first = _ingest(tmp_path, "--workers", "2")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(server.hits(f"/{i}.xml") for i in ids) < 4:
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    polled_before_kill = sum(server.hits(f"/{i}.xml") > 0 for i in ids)
    assert 0 < polled_before_kill < len(ids), "the kill must land mid-run"

    second = _ingest(tmp_path, "--once")
    assert second.wait(120) == 0

    published = _published(stack.settings.kafka_bootstrap, set(ids))
    guids = set().union(*published.values())
    assert guids == expected  # nothing missing, nothing foreign
    assert all(len(g) == 1 for g in published.values())  # one key per item


def test_two_processes_split_the_feeds_without_double_polling(
    stack: LocalStack, server: FeedServer, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    ids = _registry(tmp_path, server, run, feeds=16, items=3, delay_s=1.0)
    group = f"wf-test-{run}"
    procs = [_ingest(tmp_path, "--workers", "1", group=group, log_name=f"p{n}.log") for n in range(2)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not all(server.hits(f"/{i}.xml") for i in ids):
            time.sleep(0.2)
        time.sleep(3)  # a double poll would show up by now
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(60) for p in procs]
    assert codes == [0, 0]  # SIGTERM drains and exits cleanly
    hits = {i: server.hits(f"/{i}.xml") for i in ids}
    assert all(h >= 1 for h in hits.values()), hits
    # min_interval_s is 30: within this test a feed polled twice was polled by both processes.
    assert all(h == 1 for h in hits.values()), hits
    agents = {r.headers.get("user-agent") for r in server.requests}
    assert all(a and a.startswith("Watchfloor/") for a in agents)
    published = _published(stack.settings.kafka_bootstrap, set(ids))
    assert len(published) == 16 * 3
    first, second = (_polled_feeds(tmp_path / f"p{n}.log") for n in range(2))
    assert first and second, "both processes must take a share"
    assert first | second == set(ids)
    assert not first & second


def test_metrics_and_health_report_each_feeds_outcome(
    stack: LocalStack, server: FeedServer, tmp_path: Path
) -> None:
    import urllib.request

    run = uuid.uuid4().hex[:6]
    good, gone, page = f"h{run}-good", f"h{run}-gone", f"h{run}-page"
    server.route(f"/{good}.xml", Route(body=rss(good, 2), headers={"Content-Type": "application/rss+xml"}))
    server.route(f"/{gone}.xml", Route(status=410, body=b"gone"))
    server.route(
        f"/{page}.xml", Route(body=b"<html><body>Hello</body></html>", headers={"Content-Type": "text/html"})
    )
    entries = [{"id": i, "url": server.url(f"/{i}.xml"), "name": i} for i in (good, gone, page)]
    (tmp_path / "registry.yaml").write_text(yaml.safe_dump({"feeds": entries}))
    port = free_port()
    proc = _ingest(tmp_path, "--metrics-port", str(port))
    try:
        deadline = time.monotonic() + 60
        metrics = ""
        wanted = ('watchfloor_ingest_polls_total{outcome="error"} 2.0', 'polls_total{outcome="ok"} 1.0')
        while time.monotonic() < deadline and not all(w in metrics for w in wanted):
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                    metrics = resp.read().decode()
            except OSError:
                continue
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    assert 'watchfloor_ingest_polls_total{outcome="ok"} 1.0' in metrics, metrics
    assert 'watchfloor_ingest_poll_errors_total{kind="http_status"} 1.0' in metrics
    assert 'watchfloor_ingest_poll_errors_total{kind="not_a_feed"} 1.0' in metrics
    assert "watchfloor_ingest_items_published_total 2.0" in metrics
    assert "watchfloor_ingest_fetch_seconds_bucket" in metrics

    health = subprocess.run(
        [*WATCHFLOOR, "feeds", "health", "--json", "--registry", str(tmp_path / "registry.yaml")],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    rows = {r["feed"]: r for r in json.loads(health.stdout)}
    assert rows[good]["status"] == "ok" and rows[good]["last_success"]
    assert rows[gone]["status"] == "disabled"
    assert rows[page]["status"] == "failing" and "not_a_feed" in rows[page]["last_error"]
    assert rows[page]["error_streak"] == 1


def _keys_and_values(bootstrap: str, topic: str) -> list[tuple[str, bytes]]:
    """Every record of ``topic`` so far, as (key, value)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1000)
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        return [(rec.key.decode() if rec.key else "", rec.value) for rec in consumer]
    finally:
        consumer.close()


def test_stack_up_creates_the_configured_topics_and_ingest_uses_every_one(
    stack: LocalStack, server: FeedServer, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    roles = {"items": ITEMS, "dead_letter": DEAD_LETTERS, "state": STATE, "leases": INGEST_LEASES}
    names = {role: f"wf-test-{run}.{role}" for role in roles}
    topics = {f"WATCHFLOOR_INGEST_{role.upper()}_TOPIC": name for role, name in names.items()}
    bootstrap = stack.settings.kafka_bootstrap
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        up = subprocess.run(
            [*WATCHFLOOR, "stack", "up"],
            check=False,
            cwd=REPO,
            env={**os.environ, **topics},
            capture_output=True,
            timeout=300,
        )
        assert up.returncode == 0, up.stderr.decode()
        described = {t["name"]: t for t in admin.describe_topics(list(names.values()))}
        for role, spec in roles.items():
            assert len(described[names[role]]["partitions"]) == spec.partitions, role
            resp = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, names[role])])
            configs = {k: v["value"] for k, v in resp["topic"][names[role]].items()}
            assert {k: configs[k] for k in spec.configs} == spec.configs, role

        good, page = f"c{run}-good", f"c{run}-page"
        server.route(
            f"/{good}.xml", Route(body=rss(good, 2), headers={"Content-Type": "application/rss+xml"})
        )
        server.route(f"/{page}.xml", Route(body=b"<html>Hello</html>", headers={"Content-Type": "text/html"}))
        entries = [{"id": i, "url": server.url(f"/{i}.xml"), "name": i} for i in (good, page)]
        (tmp_path / "registry.yaml").write_text(yaml.safe_dump({"feeds": entries}))
        group = f"wf-test-{run}"
        proc = _ingest(tmp_path, group=group, env=topics)  # not --once: it takes leases
        try:
            deadline = time.monotonic() + 90
            state: set[str] = set()
            while time.monotonic() < deadline and state != {f"feed:{good}", f"feed:{page}"}:
                time.sleep(0.5)
                state = {k for k, _ in _keys_and_values(bootstrap, names["state"])}
            (member,) = admin.describe_groups([group])[group]["members"]
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0
        assert state == {f"feed:{good}", f"feed:{page}"}
        items = [json.loads(v) for _, v in _keys_and_values(bootstrap, names["items"])]
        assert sorted(i["guid"] for i in items) == [f"{good}-0", f"{good}-1"]
        letters = [json.loads(v) for _, v in _keys_and_values(bootstrap, names["dead_letter"])]
        assert [(d["stage"], d["origin"]) for d in letters] == [("FetchFeed", f"feed:{page}")]
        assert member["member_metadata"]["topics"] == [names["leases"]]

        health = subprocess.run(
            [*WATCHFLOOR, "feeds", "health", "--json", "--registry", str(tmp_path / "registry.yaml")],
            cwd=REPO,
            env={**os.environ, **topics},
            capture_output=True,
            check=True,
        )
        assert {r["feed"]: r["status"] for r in json.loads(health.stdout)} == {good: "ok", page: "failing"}
    finally:
        admin.delete_topics(list(names.values()), raise_errors=False)
        admin.close()
