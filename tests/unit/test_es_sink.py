"""The bulk writer's retry/dead-letter logic, against a scripted fake client (no Elasticsearch here)."""

from typing import Any

import apache_beam as beam
import pytest

from connectors import es_sink
from connectors.es_sink import IndexRequest, _BulkWriteFn


class ScriptedClient:
    """Answers each bulk call with the next scripted per-document status list."""

    def __init__(self, script: list[list[int] | Exception]) -> None:
        self.script = script
        self.calls: list[list[str]] = []

    def bulk(self, operations: list[dict[str, Any]], refresh: Any = None) -> dict[str, Any]:
        ids = [op["index"]["_id"] for op in operations[::2]]
        self.calls.append(ids)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        items = [{"index": {"status": s, "error": None if s < 300 else {"type": "x"}}} for s in step]
        return {"errors": any(s >= 300 for s in step), "items": items}


def _run(fn: _BulkWriteFn, batch: list[IndexRequest]) -> tuple[list[IndexRequest], list[Any]]:
    written, dead = [], []
    for out in fn.process(batch):
        (dead if isinstance(out, beam.pvalue.TaggedOutput) else written).append(out)
    return written, [d.value for d in dead]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(es_sink.time, "sleep", lambda _: None)


def _fn(client: ScriptedClient) -> _BulkWriteFn:
    fn = _BulkWriteFn("http://unused", refresh=None, max_backoff_s=1)
    fn._es = client  # type: ignore[assignment]
    return fn


def test_transient_item_failures_are_retried_until_written() -> None:
    client = ScriptedClient([[201, 429, 503], [201, 200]])
    batch = [IndexRequest("i", f"d{n}", {"n": n}) for n in range(3)]
    written, dead = _run(_fn(client), batch)
    assert sorted(r.doc_id for r in written) == ["d0", "d1", "d2"]
    assert dead == []
    assert client.calls == [["d0", "d1", "d2"], ["d1", "d2"]]


def test_permanent_item_failure_becomes_a_dead_letter() -> None:
    client = ScriptedClient([[201, 400]])
    written, dead = _run(_fn(client), [IndexRequest("i", "ok", {}), IndexRequest("i", "bad", {"f": 1})])
    assert [r.doc_id for r in written] == ["ok"]
    assert len(dead) == 1
    assert dead[0].origin == "i/bad"
    assert dead[0].reason.startswith("400")
    assert '"f": 1' in dead[0].payload


def test_whole_request_failure_is_retried() -> None:
    from elasticsearch import ConnectionError as EsConnectionError

    client = ScriptedClient([EsConnectionError("refused"), [201]])
    written, _dead = _run(_fn(client), [IndexRequest("i", "a", {})])
    assert [r.doc_id for r in written] == ["a"]
    assert len(client.calls) == 2
