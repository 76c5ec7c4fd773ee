"""The smoke pipeline: Kafka JSON messages → Elasticsearch documents, ``_id`` = message key.

It proves the plumbing every later pipeline stands on (source, sink, dead letters, runner) and is what
``make run`` shows until the full pipeline lands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam

from connectors.es_sink import DEAD, IndexRequest, WriteToElasticsearch
from connectors.kafka_sink import WriteToKafka, dead_letter_record
from connectors.kafka_source import KafkaRecord, ReadFromKafka
from schemas.deadletter import DeadLetter


@dataclass(frozen=True)
class SmokeConfig:
    bootstrap: str
    es_url: str
    topic: str
    index: str
    dead_letter_topic: str
    group_id: str | None = None


class DecodeJsonFn(beam.DoFn):
    """A keyed JSON object becomes an index request; anything else a dead letter."""

    def __init__(self, index: str) -> None:
        self._index = index

    def process(self, record: KafkaRecord) -> Iterator[Any]:
        try:
            if not record.key:
                raise ValueError("message has no key (the document id)")
            doc = json.loads(record.value or b"")
            if not isinstance(doc, dict):
                raise ValueError(f"expected a JSON object, got {type(doc).__name__}")
            yield IndexRequest(self._index, record.key.decode("utf-8"), doc)
        except (ValueError, UnicodeDecodeError) as exc:
            yield beam.pvalue.TaggedOutput(
                DEAD, DeadLetter.of("DecodeJson", str(exc), record.origin, record.value)
            )


def build(pipeline: beam.Pipeline, cfg: SmokeConfig) -> None:
    decoded = (
        pipeline
        | "ReadMessages" >> ReadFromKafka(cfg.bootstrap, [cfg.topic], group_id=cfg.group_id)
        | "DecodeJson" >> beam.ParDo(DecodeJsonFn(cfg.index)).with_outputs(DEAD, main="docs")
    )
    written = decoded.docs | "WriteDocuments" >> WriteToElasticsearch(cfg.es_url)
    (
        (decoded[DEAD], written[DEAD])
        | "CollectDeadLetters" >> beam.Flatten()
        | "WriteDeadLetters" >> WriteToKafka(cfg.bootstrap, cfg.dead_letter_topic, dead_letter_record)
    )
