"""Smoke pipeline throughput: Kafka → Beam on Prism → Elasticsearch vs a plain consumer → bulk loop.

Both move the same N messages from the same topic into Elasticsearch with the same batch size, in one
run, so the ratio says what the streaming runner costs over the simplest possible mover.

    .venv/bin/python -m bench.smoke [--messages 5000]   (needs `watchfloor stack up`)
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

import apache_beam as beam
from elasticsearch import ApiError, Elasticsearch, helpers
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.kafka_sink import make_producer
from pipeline import smoke
from pipeline.runner import streaming_options
from schemas.settings import StackSettings
from schemas.topics import DEAD_LETTERS


def _count(es: Elasticsearch, index: str) -> int:
    try:
        return int(es.count(index=index)["count"])
    except ApiError:  # 404 not created yet, or 503 while its shard starts
        return 0


def _wait_for(es: Elasticsearch, index: str, n: int, started: float) -> tuple[float, float]:
    """(seconds until the first document is visible, seconds until all n are)."""
    first = None
    while True:
        c = _count(es, index)
        now = time.monotonic() - started
        if c and first is None:
            first = now
        if c >= n:
            return first or now, now
        time.sleep(0.05)


def run_beam(
    settings: StackSettings, topic: str, index: str, n: int, es: Elasticsearch
) -> tuple[float, float]:
    pipeline = beam.Pipeline(options=streaming_options(settings))
    smoke.build(
        pipeline,
        smoke.SmokeConfig(settings.kafka_bootstrap, settings.es_url, topic, index, DEAD_LETTERS.name),
    )
    started = time.monotonic()
    result = pipeline.run()
    try:
        return _wait_for(es, index, n, started)
    finally:
        result.cancel()


def run_plain(
    settings: StackSettings, topic: str, index: str, n: int, es: Elasticsearch
) -> tuple[float, float]:
    started = time.monotonic()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    done = 0
    while done < n:
        for records in consumer.poll(timeout_ms=200, max_records=500).values():
            actions = [
                {"_index": index, "_id": r.key.decode(), "_source": json.loads(r.value)} for r in records
            ]
            helpers.bulk(es, actions)
            done += len(actions)
    consumer.close()
    return _wait_for(es, index, n, started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    n = parser.parse_args().messages
    settings = StackSettings()
    run = uuid.uuid4().hex[:8]
    topic = f"wf-bench-{run}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()
    producer = make_producer(settings.kafka_bootstrap)
    for i in range(n):
        producer.send(topic, key=f"m{i}".encode(), value=json.dumps({"n": i, "text": "x" * 200}).encode())
    producer.flush()
    es = Elasticsearch(settings.es_url)
    _, plain_all = run_plain(settings, topic, f"wf-bench-plain-{run}", n, es)
    beam_first, beam_all = run_beam(settings, topic, f"wf-bench-beam-{run}", n, es)
    for index in (f"wf-bench-plain-{run}", f"wf-bench-beam-{run}"):
        es.indices.delete(index=index)
    plain_rate = n / plain_all
    beam_rate = n / beam_all
    beam_steady = n / max(beam_all - beam_first, 1e-3)
    print(f"messages: {n}")
    print(f"plain consumer->bulk: {plain_rate:8.0f} msg/s (all in {plain_all:.1f}s)")
    print(
        f"beam on prism:        {beam_rate:8.0f} msg/s (all in {beam_all:.1f}s, first doc {beam_first:.1f}s)"
    )
    print(f"beam after first doc: {beam_steady:8.0f} msg/s")
    print(f"ratio beam/plain (end to end): {beam_rate / plain_rate:.2f}")


if __name__ == "__main__":
    main()
