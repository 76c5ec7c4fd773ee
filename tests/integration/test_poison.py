"""Poison pills through the real pipeline: no single item may stall or bloat the job.

A huge article, a deeply nested JSON value, an item whose text is only markup and bytes that are not
UTF-8, all on one partition ahead of ordinary items: each ends as a dead letter or a bounded article,
and the items behind them are written all the same.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch
from kafka import KafkaConsumer, TopicPartition

from connectors.kafka_sink import make_producer
from connectors.stack.local import LocalStack
from pipeline.articles import STORED_TEXT_CHARS
from schemas.topics import DEAD_LETTERS
from tests.support.pipeline import JobEnv, feed_item, stop, wait_for

SENTENCE = "Kim Jong Un may travel to Russia for arms talks with Putin, officials may say. "


def _dead_letters(job: JobEnv) -> list[dict[str, str]]:
    consumer = KafkaConsumer(
        bootstrap_servers=job.settings.kafka_bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000
    )
    tps = [
        TopicPartition(DEAD_LETTERS.name, p) for p in sorted(consumer.partitions_for_topic(DEAD_LETTERS.name))
    ]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    letters = [json.loads(r.value) for r in consumer]
    consumer.close()
    return [d for d in letters if job.items_topic in d["origin"]]


def test_poison_pills_end_bounded_or_dead_and_the_items_behind_them_flow_on(
    stack: LocalStack, tmp_path: Path
) -> None:
    job = JobEnv(stack.settings)
    job.create_topics()
    now = datetime.now(UTC)
    huge = feed_item("huge-wire", 1, "Kim may visit Russia", SENTENCE * 9_000, now)  # ~740 KB
    markup = feed_item("markup-desk", 2, "<div><br/></div>", "<p><span></span></p>" * 500, now)
    nested = b'{"item_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    not_utf8 = b'{"item_id": "\xff\xfe\xfa", "title": "\xc3\x28"}'
    behind = [
        feed_item(f"behind-{n}", 10 + n, f"Harbour council report {n}", f"Budget vote number {n}.", now)
        for n in range(3)
    ]
    producer = make_producer(stack.settings.kafka_bootstrap)
    for key, value in [
        (huge.item_id.encode(), huge.model_dump_json().encode()),
        (b"nested", nested),
        (markup.item_id.encode(), markup.model_dump_json().encode()),
        (b"not-utf8", not_utf8),
        *((i.item_id.encode(), i.model_dump_json().encode()) for i in behind),
    ]:
        producer.send(job.items_topic, key=key, value=value, partition=0)
    producer.flush()
    producer.close()

    es = Elasticsearch(stack.settings.es_url)
    log = tmp_path / "pipeline.log"
    proc = job.start_pipeline(log)
    expected = {huge.item_id, markup.item_id, *(i.item_id for i in behind)}
    try:
        wait_for(
            lambda: (
                {d["_id"] for d in job.docs(es, job.articles_index)} >= expected
                and job.committed() == job.end_offsets()
            ),
            timeout=240,
            what="the articles behind the poison pills",
            proc=proc,
            status=lambda: f"{len(job.docs(es, job.articles_index))} articles",
        )
    finally:
        assert stop(proc) == 0, log.read_text()[-3000:]

    docs = {d["_id"]: d for d in job.docs(es, job.articles_index)}
    big = docs[huge.item_id]
    assert len(big["summary"]) <= STORED_TEXT_CHARS < len(huge.summary)  # the ingester's text field
    assert big["topics"], "the huge article is still classified"
    assert len(json.dumps(big["explanation"])) < 64_000
    assert "stored" in big["explanation"] and "read" in big["explanation"]
    assert docs[markup.item_id]["topics"] == []
    letters = _dead_letters(job)
    assert sorted(d["stage"] for d in letters) == ["DecodeItems", "DecodeItems"], letters
    assert all(d["reason"].startswith("not a valid FeedItem") for d in letters)
