"""The composition root of the streaming job: Kafka items in; articles, alerts and dead letters out.

    ReadItems → DecodeItems → DeduplicateItems → ClassifyTopics → ClusterStories → DecideAlerts
      → WriteToElasticsearch (articles, alerts) + PublishAlerts (Kafka) → CommitOffsets
    every step's dead output → WriteDeadLetters → CommitOffsets

Classification runs before clustering because it is stateless (it parallelises freely) and a story
needs its articles' topics and actors to decide alerts.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import apache_beam as beam
from elasticsearch import Elasticsearch
from kafka import KafkaConsumer

from connectors.es_restore import alerts_since, articles_since
from connectors.es_sink import DEAD as ES_DEAD
from connectors.es_sink import IndexRequest, WriteToElasticsearch
from connectors.es_templates import install_templates
from connectors.kafka_sink import WriteToKafka, dead_letter_record
from connectors.kafka_source import ReadFromKafka
from pipeline.cluster import ClusterParams
from pipeline.state import PipelineState
from pipeline.transforms import (
    ALERTS,
    DEAD,
    DONE,
    AlertMessage,
    ClassifyFn,
    ClusterFn,
    CommitOffsets,
    DecideFn,
    DecodeItemFn,
    DeduplicateFn,
    alert_record,
)
from schemas.bundled import rule_packs
from schemas.deadletter import DeadLetter
from schemas.settings import PipelineSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobConfig:
    bootstrap: str
    es_url: str
    settings: PipelineSettings
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Names this run's shared state in each worker process; a new run rebuilds it from Elasticsearch."""


@dataclass(frozen=True)
class LoadState:
    """Builds the working memory from the rule packs and watch list, then restores it from Elasticsearch."""

    cfg: JobConfig

    def __call__(self) -> PipelineState:
        s = self.cfg.settings
        ttl = timedelta(hours=s.story_ttl_hours)
        window = timedelta(hours=s.dedup_window_hours)
        state = PipelineState.configured(s.rules_root, ClusterParams(ttl=ttl), window)
        es = Elasticsearch(self.cfg.es_url, request_timeout=60)
        try:
            articles, alerts = state.restore(
                articles_since(es, s.articles_index, max(ttl, window)), alerts_since(es, s.alerts_index, ttl)
            )
        finally:
            es.close()
        log.info(
            "pipeline state restored: %d articles, %d alerts, %d stories", articles, alerts, len(state.book)
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
    load = LoadState(cfg)
    decoded = (
        pipeline
        | "ReadItems" >> ReadFromKafka(cfg.bootstrap, [s.items_topic], group_id=s.group_id)
        | "DecodeItems" >> beam.ParDo(DecodeItemFn()).with_outputs(DEAD, main="items")
    )
    deduped = decoded.items | "DeduplicateItems" >> beam.ParDo(DeduplicateFn(cfg.run_id, load)).with_outputs(
        DONE, main="items"
    )
    classified = deduped.items | "ClassifyTopics" >> beam.ParDo(ClassifyFn(s.rules_root)).with_outputs(
        DEAD, main="items"
    )
    clustered = classified.items | "ClusterStories" >> beam.ParDo(ClusterFn(cfg.run_id, load))
    decided = clustered | "DecideAlerts" >> beam.ParDo(
        DecideFn(cfg.run_id, load, s.articles_index, s.alerts_index)
    ).with_outputs(DEAD, ALERTS, main="writes")

    written = decided.writes | "WriteToElasticsearch" >> WriteToElasticsearch(cfg.es_url)
    published = decided[ALERTS] | "PublishAlerts" >> WriteToKafka(
        cfg.bootstrap, s.alerts_topic, alert_record, tag_of=_alert_receipt
    )
    dead_written = (
        (decoded[DEAD], classified[DEAD], decided[DEAD], written[ES_DEAD])
        | "CollectDeadLetters" >> beam.Flatten()
        | "WriteDeadLetters"
        >> WriteToKafka(cfg.bootstrap, s.dead_letter_topic, dead_letter_record, tag_of=_letter_receipt)
    )
    (
        (written.written | "Receipts" >> beam.Map(_request_receipt), published, dead_written, deduped[DONE])
        | "CollectReceipts" >> beam.Flatten()
        | "CommitOffsets" >> CommitOffsets(cfg.run_id, cfg.bootstrap, [s.items_topic], s.group_id)
    )


def _alert_receipt(message: AlertMessage) -> object:
    return message.receipt


def _letter_receipt(letter: DeadLetter) -> object:
    return letter.tag


def _request_receipt(request: IndexRequest) -> object:
    return request.tag
