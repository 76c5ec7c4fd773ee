from ipaddress import ip_network
from pathlib import Path

import pytest

from schemas.settings import IngestSettings, StackSettings
from schemas.topics import ALL_TOPICS, STATE


def test_env_overrides_ports_and_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WATCHFLOOR_KAFKA_PORT", "19092")
    monkeypatch.setenv("WATCHFLOOR_ES_PORT", "19200")
    monkeypatch.setenv("WATCHFLOOR_STATE_DIR", "rel/state")
    monkeypatch.chdir(tmp_path)
    s = StackSettings().resolved()
    assert s.kafka_bootstrap == "127.0.0.1:19092"
    assert s.es_url == "http://127.0.0.1:19200"
    assert s.state_dir == tmp_path / "rel" / "state"


def test_heaps_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_ES_HEAP_MB", "4096")
    with pytest.raises(ValueError, match="es_heap_mb"):
        StackSettings()


def test_state_topic_is_compacted_and_names_are_unique() -> None:
    assert STATE.configs["cleanup.policy"] == "compact"
    names = [t.name for t in ALL_TOPICS]
    assert len(names) == len(set(names))


def test_ingest_allow_networks_is_a_comma_separated_list_of_cidrs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IngestSettings().allow_networks == ()
    monkeypatch.setenv("WATCHFLOOR_INGEST_ALLOW_NETWORKS", "127.0.0.0/8, ::1")
    assert IngestSettings().allow_networks == (ip_network("127.0.0.0/8"), ip_network("::1/128"))
    monkeypatch.setenv("WATCHFLOOR_INGEST_ALLOW_NETWORKS", "127.0.0.1/8")  # host bits set: a typo
    with pytest.raises(ValueError, match="allow_networks"):
        IngestSettings()
