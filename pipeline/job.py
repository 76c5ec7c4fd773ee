"""The composition root of the streaming job: the only module of pipeline/ that wires Kafka and Elasticsearch.

    ReadItems (Kafka) → ProcessItems (decode → classify → keyed core; pipeline/process.py)
      → WriteToElasticsearch (articles, alerts) + PublishAlerts (Kafka) + WriteDeadLetters (Kafka)
      → every write's receipt → CommitOffsets (Kafka, after the writes)

The core's state shards are restored from Elasticsearch by `RestoreShard`, injected into ProcessItems.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import apache_beam as beam
from elasticsearch import Elasticsearch
from kafka import KafkaConsumer

from connectors.es_restore import alerts_since, articles_since
from connectors.es_sink import DEAD as ES_DEAD
from connectors.es_sink import IndexRequest, WriteToElasticsearch
from connectors.es_templates import install_templates
from connectors.kafka_commit import CommitOffsets
from connectors.kafka_sink import DEAD as KAFKA_DEAD
from connectors.kafka_sink import FitRecordsFn, WriteToKafka, dead_letter_record
from connectors.kafka_source import ReadFromKafka
from pipeline.cluster import ClusterParams
from pipeline.core import shard_of
from pipeline.process import ProcessItems
from pipeline.records import AlertMessage, DocKind, DocWrite, alert_record
from pipeline.state import PipelineState
from schemas.bundled import rule_packs
from schemas.deadletter import DeadLetter
from schemas.settings import PipelineSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobConfig:
    bootstrap: str
    es_url: str
    settings: PipelineSettings


@dataclass(frozen=True)
class RestoreShard:
    """A shard's working memory: built from the rule packs and watch list, then restored from the
    articles of that shard and the alerts the job wrote (ADR 0003, 0005)."""

    cfg: JobConfig

    def __call__(self, shard: str) -> PipelineState:
        s = self.cfg.settings
        ttl = timedelta(hours=s.story_ttl_hours)
        window = timedelta(hours=s.dedup_window_hours)
        state = PipelineState.configured(s.rules_root, ClusterParams(ttl=ttl), window)
        es = Elasticsearch(self.cfg.es_url, request_timeout=60)
        try:
            mine = (
                doc
                for doc in articles_since(es, s.articles_index, max(ttl, window))
                if shard_of(doc.language, s.shards) == shard
            )
            articles, alerts = state.restore(mine, alerts_since(es, s.alerts_index, ttl))
        finally:
            es.close()
        log.info(
            "pipeline state shard %s restored: %d articles, %d alerts, %d stories",
            shard,
            articles,
            alerts,
            len(state.book),
        )
        return state


def prepare(cfg: JobConfig) -> None:
    """Check the rule packs and topics exist and install the index templates, so a misconfigured job
    fails at once (a rules root without packs would classify nothing, and no alert would ever fire)."""
    s = cfg.settings
    rule_packs(s.rules_root)
    install_templates(cfg.es_url)
    consumer = KafkaConsumer(bootstrap_servers=cfg.bootstrap)
    try:
        missing = sorted({s.items_topic, s.alerts_topic, s.dead_letter_topic} - consumer.topics())
    finally:
        consumer.close()
    if missing:
        raise RuntimeError(
            f"Kafka topics missing: {missing} (`watchfloor stack up` creates the configured topics)"
        )


def build(pipeline: beam.Pipeline, cfg: JobConfig) -> None:
    s = cfg.settings
    processed = (
        pipeline
        | "ReadItems" >> ReadFromKafka(cfg.bootstrap, [s.items_topic], group_id=s.group_id)
        | "ProcessItems" >> ProcessItems(s.rules_root, RestoreShard(cfg), s.shards)
    )
    written = (
        processed.writes
        | "ToIndexRequests" >> beam.Map(index_request, s.articles_index, s.alerts_index)
        | "WriteToElasticsearch" >> WriteToElasticsearch(cfg.es_url)
    )
    fitting = processed.alerts | "FitAlertRecords" >> beam.ParDo(
        FitRecordsFn("publish_alert", alert_record, _alert_receipt)
    ).with_outputs(KAFKA_DEAD, main="alerts")
    published = fitting.alerts | "PublishAlerts" >> WriteToKafka(
        cfg.bootstrap, s.alerts_topic, alert_record, tag_of=_alert_receipt
    )
    dead_written = (
        (processed.dead, written[ES_DEAD], fitting[KAFKA_DEAD])
        | "CollectDeadLetters" >> beam.Flatten()
        | "WriteDeadLetters"
        >> WriteToKafka(cfg.bootstrap, s.dead_letter_topic, dead_letter_record, tag_of=_letter_receipt)
    )
    (
        (written.written | "Receipts" >> beam.Map(_request_receipt), published, dead_written, processed.done)
        | "CollectReceipts" >> beam.Flatten()
        | "CommitOffsets" >> CommitOffsets(cfg.bootstrap, s.group_id)
    )


def index_request(write: DocWrite, articles_index: str, alerts_index: str) -> IndexRequest:
    index = articles_index if write.kind is DocKind.article else alerts_index
    return IndexRequest(
        index,
        write.doc_id,
        write.source,
        write.receipt,
        create=write.create,
        partial=write.partial,
        union_key=write.union_key,
    )


def _alert_receipt(message: AlertMessage) -> object:
    return message.receipt


def _letter_receipt(letter: DeadLetter) -> object:
    return letter.tag


def _request_receipt(request: IndexRequest) -> object:
    return request.tag
