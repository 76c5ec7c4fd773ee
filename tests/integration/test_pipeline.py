"""The streaming job end to end on the real stack: feeds → ingester → Kafka → Prism → Elasticsearch.

Each test runs on its own items/alerts topics, indices and consumer groups (tests/support/pipeline.py).
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from connectors.demo.corpus import Corpus
from connectors.kafka_sink import make_producer
from connectors.stack.local import LocalStack
from schemas.feed import SourceTier
from schemas.item import FeedItem
from tests.support.canonical import (
    CANONICAL,
    check_results,
    ingest_scenario,
    progress,
    wait_until_all_written,
)
from tests.support.pipeline import JobEnv, feed_item, stop, wait_for


def test_canonical_story_becomes_one_story_with_one_alert_per_topic(
    stack: LocalStack, tmp_path: Path
) -> None:
    job = JobEnv(stack.settings)
    job.create_topics()
    outlets = ingest_scenario(job, tmp_path)
    es = Elasticsearch(stack.settings.es_url)
    proc = job.start_pipeline(tmp_path / "pipeline.log")
    try:
        wait_until_all_written(es, job, proc)
        time.sleep(2)  # a late extra write would show up by now
    finally:
        assert stop(proc) == 0, (tmp_path / "pipeline.log").read_text()[-3000:]
    check_results(es, job, outlets)


def _filler(n: int, published: datetime) -> FeedItem:
    rng = random.Random(n)
    words = ["harvest", "council", "bridge", "festival", "budget", "railway", "museum", "league", "school"]
    text = " ".join(f"{rng.choice(words)}{rng.randrange(10_000)}" for _ in range(120))
    return feed_item(f"filler-{n % 7}", n, f"Local report {n}: {' '.join(text.split()[:6])}", text, published)


def test_sigkill_mid_stream_then_restart_loses_nothing_and_doubles_nothing(
    stack: LocalStack, tmp_path: Path
) -> None:
    job = JobEnv(stack.settings)
    job.create_topics()
    corpus = Corpus.load()
    canon = [a for a in corpus.articles if a.story == CANONICAL]
    now = datetime.now(UTC)
    wire = feed_item("wire-global", 1, canon[0].title, canon[0].text, now, SourceTier.WIRE)
    copies = [feed_item(a.outlet, 2, a.title, a.text, now + timedelta(minutes=1)) for a in canon[1:]]
    fillers = [_filler(n, now + timedelta(seconds=n)) for n in range(600)]
    # The wire story first, filler streaming in around a SIGKILL, the copies only after the restart.
    expected = {i.item_id for i in [wire, *copies, *fillers]}

    producer = make_producer(stack.settings.kafka_bootstrap)

    def send(items: list[FeedItem], per_s: float) -> None:
        for item in items:
            producer.send(job.items_topic, key=item.item_id.encode(), value=item.model_dump_json().encode())
            time.sleep(1 / per_s)
        producer.flush()

    send([wire], 1000)
    es = Elasticsearch(stack.settings.es_url)
    log = tmp_path / "pipeline.log"
    first = job.start_pipeline(log)
    streaming = threading.Thread(target=send, args=(fillers, 60.0))
    streaming.start()
    try:
        wait_for(lambda: len(job.docs(es, job.articles_index)) >= 60, 120, "the first articles", first)
    finally:
        assert stop(first, signal.SIGKILL) == -signal.SIGKILL
    written_before = len(job.docs(es, job.articles_index))
    streaming.join()
    assert written_before < len(expected), "the kill must land mid-stream"
    alerts_before = {a["_id"] for a in job.docs(es, job.alerts_index)}

    second = job.start_pipeline(log)
    try:
        send(copies, 1000)
        wait_for(
            lambda: (
                len(job.docs(es, job.articles_index)) == len(expected)
                and job.committed() == job.end_offsets()
            ),
            timeout=180,
            what="every article after the restart",
            proc=second,
            status=lambda: progress(es, job),
        )
        time.sleep(2)
    finally:
        assert stop(second) == 0, log.read_text()[-3000:]
    producer.close()

    articles = job.docs(es, job.articles_index)
    assert Counter(a["article_id"] for a in articles) == Counter(expected)  # none lost, none twice
    story = {a["article_id"]: a["story_id"] for a in articles}
    assert {story[c.item_id] for c in copies} == {story[wire.item_id]}, (
        "the story continued across the restart"
    )
    alerts = job.docs(es, job.alerts_index)
    assert alerts_before <= {a["_id"] for a in alerts}
    keys = Counter(
        (a["watchfloor"]["story_id"], a["watchfloor"]["topic"], a["watchfloor"]["revision"]) for a in alerts
    )
    assert all(n == 1 for n in keys.values()), keys
    first_revisions = Counter((s, t) for s, t, r in keys if r == 1)
    assert all(n == 1 for n in first_revisions.values()), "revisions continued, they did not restart at 1"
    assert {"arms_transfer", "leader_visit"} <= {t for s, t, _ in keys if s == story[wire.item_id]}


def test_a_job_that_fails_at_run_time_exits_1_and_logs_the_runners_error(
    stack: LocalStack, tmp_path: Path
) -> None:
    """Its state cannot be restored (the articles index is closed): the worker's error, not silence."""
    job = JobEnv(stack.settings)
    job.create_topics()
    es = Elasticsearch(stack.settings.es_url)
    es.indices.create(index=job.articles_index)
    es.indices.close(index=job.articles_index)
    producer = make_producer(stack.settings.kafka_bootstrap)
    item = feed_item("wire-global", 1, "A report", "Some text of the report.", datetime.now(UTC))
    producer.send(job.items_topic, key=item.item_id.encode(), value=item.model_dump_json().encode())
    producer.close()
    log = tmp_path / "pipeline.log"
    proc = job.start_pipeline(log)
    try:
        code = proc.wait(240)
    finally:
        stop(proc, signal.SIGKILL)
        es.indices.delete(index=job.articles_index)
    lines = log.read_text().splitlines()
    assert code == 1, lines[-20:]
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    (stopped,) = [e for e in entries if e["message"].startswith("pipeline stopped by itself")]
    assert stopped["log.level"] == "error" and stopped["log.logger"] == "watchfloor.pipeline"
    assert "index_closed_exception" in stopped["message"], stopped
    assert "Traceback" in stopped["error.stack_trace"]


def test_sigterm_mid_stream_stops_cleanly_without_a_traceback(stack: LocalStack, tmp_path: Path) -> None:
    """Cancelling shuts the in-process workers down with bundles active (the Kafka source mid-poll)."""
    job = JobEnv(stack.settings)
    job.create_topics()
    now = datetime.now(UTC)
    items = [_filler(n, now + timedelta(seconds=n)) for n in range(400)]
    producer = make_producer(stack.settings.kafka_bootstrap)

    def send() -> None:
        for item in items:
            producer.send(job.items_topic, key=item.item_id.encode(), value=item.model_dump_json().encode())
            time.sleep(1 / 50)
        producer.flush()

    es = Elasticsearch(stack.settings.es_url)
    log = tmp_path / "pipeline.log"
    proc = job.start_pipeline(log)
    streaming = threading.Thread(target=send)
    streaming.start()
    try:
        wait_for(lambda: len(job.docs(es, job.articles_index)) >= 40, 120, "the first articles", proc)
    finally:
        code = stop(proc)
        streaming.join()
        producer.close()
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "pipeline cancelled" in text
    assert "Traceback" not in text, text[text.index("Traceback") - 200 :][:3000]
