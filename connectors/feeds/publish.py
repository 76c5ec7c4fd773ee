"""Publish FeedItems to ``watchfloor.items``: key = item_id, JSON value, schema-version header.

Items arrive serialised (see ``digest.ItemRecord``): this process only hands bytes to the producer.

``publish`` returns only after the broker acknowledged every item (acks=all, idempotent producer);
any failure raises, and the caller then leaves the feed's state where it was, so the items are
fetched and published again on the next poll (the key makes the repeat harmless downstream).
"""

from __future__ import annotations

from collections.abc import Sequence

from kafka import KafkaProducer

from connectors.feeds.digest import ItemRecord
from connectors.kafka_sink import dead_letter_record, make_producer
from schemas.deadletter import DeadLetter
from schemas.item import ITEM_SCHEMA_VERSION

# Polls publishing at the same time share batches: one 256 KiB batch per partition instead of many
# 16 KiB ones means fewer requests, futures and compressions for kafka-python's pure-Python sender.
BATCH_BYTES = 256 * 1024
HEADERS = [("schema-version", str(ITEM_SCHEMA_VERSION).encode()), ("content-type", b"application/json")]


class PublishError(RuntimeError):
    pass


class ItemPublisher:
    def __init__(self, bootstrap: str, items_topic: str, dead_letter_topic: str) -> None:
        self._producer: KafkaProducer = make_producer(bootstrap, batch_size=BATCH_BYTES)
        self._items_topic = items_topic
        self._dead_letter_topic = dead_letter_topic

    def publish(self, items: Sequence[ItemRecord], dead_letters: Sequence[DeadLetter] = ()) -> None:
        futures = [
            self._producer.send(
                self._items_topic, key=item.item_id.encode(), value=item.value, headers=HEADERS
            )
            for item in items
        ]
        for letter in dead_letters:
            key, value = dead_letter_record(letter)
            futures.append(self._producer.send(self._dead_letter_topic, key=key, value=value))
        failed = []
        for future in futures:  # only this call's records: other workers share the producer
            try:
                future.get(timeout=120)
            except Exception as exc:  # KafkaError or timeout: the caller keeps the feed's state as it was
                failed.append(exc)
        if failed:
            raise PublishError(f"{len(failed)} of {len(futures)} records not acknowledged: {failed[0]!r}")

    def close(self) -> None:
        self._producer.close()
