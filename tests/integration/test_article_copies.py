"""Exact copies through the real pipeline: dedup drops them, the article they copy lists them, and a
search by any copy's link finds the story (tests/support/pipeline.py: own topics and indices)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from connectors.kafka_sink import make_producer
from connectors.search import Indices, search_articles
from connectors.stack.local import LocalStack
from tests.support.pipeline import JobEnv, feed_item, stop, wait_for

TITLE = "Harbour authority closes the northern pier after a crane collapse"
TEXT = "The harbour authority closed the northern pier on Tuesday after a crane collapsed onto a cargo ship."


def test_exact_copies_from_other_feeds_are_listed_on_the_article_and_found_by_their_links(
    stack: LocalStack, tmp_path: Path
) -> None:
    job = JobEnv(stack.settings)
    job.create_topics()
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    first = feed_item(f"wire-{job.run}", 1, TITLE, TEXT, when)
    # The same text under another outlet's link (same content hash), and another feed of the first
    # outlet carrying its link (same canonical URL).
    by_hash = feed_item(f"courier-{job.run}", 7, TITLE, TEXT, when + timedelta(minutes=3))
    by_url = feed_item(f"asia-{job.run}", 2, TITLE, TEXT, when + timedelta(minutes=5))
    by_url = by_url.model_copy(update={"url": first.url})
    items = [first, by_hash, by_url]
    producer = make_producer(stack.settings.kafka_bootstrap)
    for item in items:
        producer.send(job.items_topic, key=item.item_id.encode(), value=item.model_dump_json().encode())
    producer.close()

    es = Elasticsearch(stack.settings.es_url)
    log = tmp_path / "pipeline.log"
    proc = job.start_pipeline(log)

    def listed() -> bool:
        docs = job.docs(es, job.articles_index)
        return len(docs) == 1 and len(docs[0]["watchfloor"].get("copies", [])) == 2

    try:
        wait_for(
            lambda: listed() and job.committed() == job.end_offsets(),
            timeout=180,
            what="one article listing two copies, every offset committed",
            proc=proc,
        )
    finally:
        assert stop(proc) == 0, log.read_text()[-3000:]

    # Which item becomes the article is arrival order (items on different partitions); the others are
    # its copies whatever the order.
    (article,) = job.docs(es, job.articles_index)
    by_id = {i.item_id: i for i in items}
    copies = article["watchfloor"]["copies"]
    assert {c["item_id"] for c in copies} == set(by_id) - {article["_id"]}
    for copy in copies:
        item = by_id[copy["item_id"]]
        assert (copy["feed_id"], copy["url"]) == (item.feed_id, item.url)
    indices = Indices(articles=job.articles_index, alerts=job.alerts_index)
    for item in items:
        assert item.url is not None
        found = search_articles(es, item.url, indices=indices)
        assert [(f["_id"], f["story_id"]) for f in found] == [(article["_id"], article["story_id"])], item.url
