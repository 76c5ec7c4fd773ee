from ipaddress import ip_network
from pathlib import Path

import pytest

from schemas.settings import (
    IngestSettings,
    NotifySettings,
    PipelineSettings,
    StackSettings,
    configured_topics,
)
from schemas.topics import ALERTS, DEAD_LETTERS, INGEST_LEASES, ITEMS, OPS_ALERTS, STATE


def test_env_overrides_ports_and_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WATCHFLOOR_KAFKA_PORT", "19092")
    monkeypatch.setenv("WATCHFLOOR_ES_PORT", "19200")
    monkeypatch.setenv("WATCHFLOOR_STATE_DIR", "rel/state")
    monkeypatch.chdir(tmp_path)
    s = StackSettings().resolved()
    assert s.kafka_bootstrap == "127.0.0.1:19092"
    assert s.es_url == "http://127.0.0.1:19200"
    assert s.state_dir == tmp_path / "rel" / "state"


def test_external_kafka_and_elasticsearch_replace_the_local_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_KAFKA_SERVERS", "kafka-0.kafka:9092,kafka-1.kafka:9092")
    monkeypatch.setenv("WATCHFLOOR_ELASTICSEARCH_URL", "https://watchfloor:s3cret@es.internal:9200")
    s = StackSettings()
    assert s.kafka_bootstrap == "kafka-0.kafka:9092,kafka-1.kafka:9092"
    assert s.es_url == "https://watchfloor:s3cret@es.internal:9200"
    assert "s3cret" not in repr(s)  # a secret: never in logs or reprs


def test_heaps_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_ES_HEAP_MB", "4096")
    with pytest.raises(ValueError, match="es_heap_mb"):
        StackSettings()


def _topics() -> dict[str, tuple[int, dict[str, str]]]:
    specs = configured_topics(IngestSettings(), PipelineSettings(), NotifySettings())
    return {s.name: (s.partitions, s.configs) for s in specs}


def test_the_default_settings_configure_each_topic_once_with_its_role() -> None:
    assert STATE.configs["cleanup.policy"] == "compact"
    assert _topics() == {
        s.name: (s.partitions, s.configs)
        for s in (ITEMS, ALERTS, DEAD_LETTERS, STATE, INGEST_LEASES, OPS_ALERTS)
    }


def test_every_topic_setting_is_a_topic_to_create_with_its_role(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, name in {
        "WATCHFLOOR_INGEST_ITEMS_TOPIC": "a.items",
        "WATCHFLOOR_INGEST_DEAD_LETTER_TOPIC": "a.dead",
        "WATCHFLOOR_INGEST_STATE_TOPIC": "a.state",
        "WATCHFLOOR_INGEST_LEASES_TOPIC": "a.leases",
        "WATCHFLOOR_PIPELINE_ITEMS_TOPIC": "a.items",
        "WATCHFLOOR_PIPELINE_ALERTS_TOPIC": "b.alerts",
        "WATCHFLOOR_PIPELINE_DEAD_LETTER_TOPIC": "b.dead",
        "WATCHFLOOR_NOTIFY_ALERTS_TOPIC": "b.alerts",
        "WATCHFLOOR_NOTIFY_DEAD_LETTER_TOPIC": "a.dead",
        "WATCHFLOOR_NOTIFY_STATE_TOPIC": "c.state",
        "WATCHFLOOR_INGEST_OPS_TOPIC": "a.ops",
        "WATCHFLOOR_NOTIFY_OPS_TOPIC": "d.ops",
    }.items():
        monkeypatch.setenv(variable, name)
    assert _topics() == {
        "a.items": (ITEMS.partitions, ITEMS.configs),
        "b.alerts": (ALERTS.partitions, ALERTS.configs),
        "a.dead": (DEAD_LETTERS.partitions, DEAD_LETTERS.configs),
        "b.dead": (DEAD_LETTERS.partitions, DEAD_LETTERS.configs),
        "a.state": (STATE.partitions, STATE.configs),
        "c.state": (STATE.partitions, STATE.configs),
        "a.leases": (INGEST_LEASES.partitions, INGEST_LEASES.configs),
        "a.ops": (OPS_ALERTS.partitions, OPS_ALERTS.configs),
        "d.ops": (OPS_ALERTS.partitions, OPS_ALERTS.configs),
    }


def test_one_topic_for_two_roles_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_STATE_TOPIC", ALERTS.name)  # compacted state in the alerts topic
    with pytest.raises(ValueError, match=r"'watchfloor.alerts' is configured for two roles"):
        _topics()


def test_ingest_allow_networks_is_a_comma_separated_list_of_cidrs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IngestSettings().allow_networks == ()
    monkeypatch.setenv("WATCHFLOOR_INGEST_ALLOW_NETWORKS", "127.0.0.0/8, ::1")
    assert IngestSettings().allow_networks == (ip_network("127.0.0.0/8"), ip_network("::1/128"))
    monkeypatch.setenv("WATCHFLOOR_INGEST_ALLOW_NETWORKS", "127.0.0.1/8")  # host bits set: a typo
    with pytest.raises(ValueError, match="allow_networks"):
        IngestSettings()
