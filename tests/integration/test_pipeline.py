"""The streaming job end to end on the real stack: feeds → ingester → Kafka → Prism → Elasticsearch.

Each test runs on its own items/alerts topics, indices and consumer groups (tests/support/pipeline.py).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from connectors.kafka_sink import make_producer
from connectors.stack.local import LocalStack
from tests.support.canonical import (
    check_results,
    ingest_scenario,
    wait_until_all_written,
)
from tests.support.pipeline import JobEnv, feed_item, stop, wait_for
from tests.support.restart import CrashStream, filler


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


def test_sigkill_mid_stream_then_restart_loses_nothing_and_doubles_nothing(
    stack: LocalStack, tmp_path: Path
) -> None:
    job = JobEnv(stack.settings)
    job.create_topics()
    stream = CrashStream(job)
    stream.send([stream.wire], 1000)
    es = Elasticsearch(stack.settings.es_url)
    log = tmp_path / "pipeline.log"
    first = job.start_pipeline(log)
    streaming = threading.Thread(target=stream.send, args=(stream.filler, 60.0))
    streaming.start()
    try:
        wait_for(lambda: len(job.docs(es, job.articles_index)) >= 60, 120, "the first articles", first)
    finally:
        assert stop(first, signal.SIGKILL) == -signal.SIGKILL
    streaming.join()
    stream.crashed(es)

    second = job.start_pipeline(log)
    try:
        stream.finish(es, second)
    finally:
        assert stop(second) == 0, log.read_text()[-3000:]
    stream.check(es)


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
    items = [filler(n, now + timedelta(seconds=n)) for n in range(400)]
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
