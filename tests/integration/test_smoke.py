"""Smoke end to end: kafka-python → streaming Beam on Prism → Elasticsearch, with deterministic ids."""

import json
import time
import uuid

import apache_beam as beam
from elasticsearch import ApiError, Elasticsearch
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.stack.local import LocalStack
from pipeline import smoke
from pipeline.runner import streaming_options
from schemas.topics import DEAD_LETTERS


def _count(es: Elasticsearch, index: str) -> int:
    try:
        es.indices.refresh(index=index)
        return int(es.count(index=index)["count"])
    except ApiError:  # 404 not created yet, or 503 while its shard starts
        return 0


def _running(result: beam.runners.runner.PipelineResult) -> bool:
    return str(result.state).endswith("RUNNING")


def _dead_letters_for(bootstrap: str, topic: str) -> list[dict[str, str]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
    tp = TopicPartition(DEAD_LETTERS.name, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    letters = [json.loads(r.value) for r in consumer]
    consumer.close()
    return [d for d in letters if d["origin"].startswith(f"{topic}/")]


def test_hundred_messages_become_exactly_hundred_documents(stack: LocalStack) -> None:
    settings = stack.settings
    run = uuid.uuid4().hex[:8]
    topic, index = f"wf-smoke-{run}", f"wf-smoke-{run}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()

    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    expected = {f"doc-{i:03d}" for i in range(100)}
    for key in sorted(expected):
        producer.send(topic, key=key.encode(), value=json.dumps({"key": key}).encode())
    # The same key again (a redelivery) must not make a 101st document; a non-JSON message is a dead letter.
    producer.send(topic, key=b"doc-007", value=json.dumps({"key": "doc-007"}).encode())
    bad = producer.send(topic, key=b"broken", value=b"{not json").get(timeout=30)
    producer.flush()
    producer.close()

    pipeline = beam.Pipeline(options=streaming_options(settings))
    smoke.build(
        pipeline,
        smoke.SmokeConfig(settings.kafka_bootstrap, settings.es_url, topic, index, DEAD_LETTERS.name),
    )
    result = pipeline.run()
    es = Elasticsearch(settings.es_url)
    try:
        deadline = time.monotonic() + 180
        while _count(es, index) < 100 and time.monotonic() < deadline and _running(result):
            time.sleep(0.5)
        letters: list[dict[str, str]] = []
        while not letters and time.monotonic() < deadline and _running(result):
            letters = _dead_letters_for(settings.kafka_bootstrap, topic)
        time.sleep(2)  # anything extra would have arrived by now
        assert _running(result), result.state
    finally:
        result.cancel()
    assert "CANCEL" in str(result.state)

    assert _count(es, index) == 100
    ids = {h["_id"] for h in es.search(index=index, size=200, source=False)["hits"]["hits"]}
    assert ids == expected
    assert [d["origin"] for d in letters] == [f"{topic}/{bad.partition}@{bad.offset}"]
    assert letters[0]["stage"] == "DecodeJson"
    es.indices.delete(index=index)
