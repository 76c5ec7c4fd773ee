import json
import socket
import urllib.request
import uuid
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from connectors.kafka_sink import make_producer
from connectors.stack.local import LocalStack
from schemas.settings import (
    ELASTICSEARCH_VERSION,
    IngestSettings,
    NotifySettings,
    PipelineSettings,
    StackSettings,
    configured_topics,
)
from schemas.topics import STATE


def test_both_services_are_healthy(stack: LocalStack) -> None:
    statuses = {s.name: s for s in stack.status()}
    assert set(statuses) == {"kafka", "elasticsearch"}
    assert all(s.healthy and s.pid for s in statuses.values()), statuses


def test_elasticsearch_serves_its_banner(stack: LocalStack) -> None:
    with urllib.request.urlopen(stack.settings.es_url, timeout=5) as resp:
        assert resp.headers["X-Elastic-Product"] == "Elasticsearch"
        banner = json.load(resp)
    assert banner["tagline"] == "You Know, for Search"
    assert banner["version"]["number"] == ELASTICSEARCH_VERSION
    assert banner["cluster_name"] == "watchfloor-local"


def test_python_client_talks_to_the_node(stack: LocalStack) -> None:
    from elasticsearch import Elasticsearch

    es = Elasticsearch(stack.settings.es_url)
    assert es.info()["version"]["number"] == ELASTICSEARCH_VERSION
    index = f"wf-test-{uuid.uuid4().hex[:8]}"
    es.index(index=index, id="a", document={"x": 1}, refresh=True)
    es.index(index=index, id="a", document={"x": 2}, refresh=True)  # same _id: replaced, not doubled
    assert es.count(index=index)["count"] == 1
    es.indices.delete(index=index)


def test_watchfloor_topics_exist_with_their_configs(stack: LocalStack) -> None:
    admin = KafkaAdminClient(bootstrap_servers=stack.settings.kafka_bootstrap)
    topics = configured_topics(IngestSettings(), PipelineSettings(), NotifySettings())
    try:
        described = {t["name"]: t for t in admin.describe_topics([t.name for t in topics])}
        for spec in topics:
            assert len(described[spec.name]["partitions"]) == spec.partitions
            resp = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name)])
            configs = {k: v["value"] for k, v in resp["topic"][spec.name].items()}
            for key, value in spec.configs.items():
                assert configs[key] == value, (spec.name, key)
        assert STATE.configs["cleanup.policy"] == "compact"
    finally:
        admin.close()


def test_produce_with_acks_all_and_read_back(stack: LocalStack) -> None:
    from kafka.admin import NewTopic

    topic = f"wf-test-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=stack.settings.kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    producer = make_producer(stack.settings.kafka_bootstrap)
    metadata = producer.send(topic, key=b"k", value=b"v").get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=stack.settings.kafka_bootstrap, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek(tp, metadata.offset)
    records = consumer.poll(timeout_ms=10000)[tp]
    consumer.close()
    assert [(r.key, r.value) for r in records] == [(b"k", b"v")]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_second_stack_up_is_idempotent_and_down_leaves_nothing(tmp_path: Path, stack: LocalStack) -> None:
    """A separate stack (own ports, own state dir) goes through up → up → down."""
    settings = StackSettings(
        state_dir=tmp_path / "state",
        cache_dir=stack.settings.cache_dir,
        kafka_port=29092,
        kafka_controller_port=29093,
        es_port=29200,
        es_transport_port=29300,
        es_heap_mb=512,
        kafka_heap_mb=256,
    )
    other = LocalStack(settings)
    try:
        first = {s.name: s.pid for s in other.up()}
        assert all(first.values())
        again = {s.name: s.pid for s in other.up()}
        assert again == first  # nothing restarted
        assert other.is_healthy()
    finally:
        stopped = other.down()
    assert sorted(stopped) == ["elasticsearch", "kafka"]
    for pid in first.values():
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
        )
    for port in (29092, 29093, 29200, 29300):
        assert not _listening(port), port
    assert all(not s.healthy for s in other.status())
    # The shared stack was not touched.
    assert stack.is_healthy()


@pytest.mark.parametrize("service", ["kafka", "elasticsearch"])
def test_logs_are_readable(stack: LocalStack, service: str) -> None:
    assert stack.logs(service, 20).strip()


def test_index_templates_are_installed_and_shape_new_indices(stack: LocalStack) -> None:
    from elasticsearch import BadRequestError, Elasticsearch

    es = Elasticsearch(stack.settings.es_url)
    names = {t["name"] for t in es.indices.get_index_template(name="watchfloor-*")["index_templates"]}
    assert {"watchfloor-articles", "watchfloor-alerts"} <= names
    index = f"watchfloor-alerts-test-{uuid.uuid4().hex[:6]}"
    alert = {
        "@timestamp": "2026-11-28T01:00:00Z",
        "message": "Kim Jong Un may travel to Russia for arms talks",
        "event": {"kind": "alert", "severity": 73},
        "rule": {"name": "arms_transfer", "category": "military"},
        "url": {"full": "https://news.example/a", "domain": "news.example"},
        "watchfloor": {"alert_id": "a1", "story_id": "st-1", "topic": "arms_transfer", "revision": 1},
    }
    es.index(index=index, id="a1", document=alert, refresh=True)
    mapping = es.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert mapping["@timestamp"]["type"] == "date"
    assert mapping["event"]["properties"]["kind"]["type"] == "keyword"
    assert mapping["message"]["type"] == "text"
    hits = es.search(index=index, query={"match": {"message": "arms talks"}})["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["a1"]
    # Strict mappings: a misspelt field is an error (dead-lettered by the sink), not a silent new field.
    with pytest.raises(BadRequestError):
        es.index(index=index, id="a2", document={**alert, "mesage": "typo"})
    es.indices.delete(index=index)
