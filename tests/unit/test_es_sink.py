"""The bulk writer's retry/dead-letter logic, against a scripted fake client (no Elasticsearch here)."""

from typing import Any

import apache_beam as beam
import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError, SerializationError
from elasticsearch import ConnectionError as EsConnectionError

from connectors import es_sink
from connectors.es_sink import IndexRequest, _BulkWriteFn


class ScriptedClient:
    """Answers each bulk call with the next scripted per-document status list."""

    def __init__(self, script: list[list[int] | Exception]) -> None:
        self.script = script
        self.calls: list[list[str]] = []
        self.actions: list[list[str]] = []

    def bulk(self, operations: list[dict[str, Any]], refresh: Any = None) -> dict[str, Any]:
        actions = [next(iter(op)) for op in operations[::2]]
        ids = [op[action]["_id"] for op, action in zip(operations[::2], actions, strict=True)]
        self.calls.append(ids)
        self.actions.append(actions)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        items = [
            {action: {"status": s, "error": None if s < 300 else {"type": "x"}}}
            for action, s in zip(actions, step, strict=True)
        ]
        return {"errors": any(s >= 300 for s in step), "items": items}


def _run(fn: _BulkWriteFn, batch: list[IndexRequest]) -> tuple[list[IndexRequest], list[Any]]:
    written, dead = [], []
    for out in fn.process(batch):
        (dead if isinstance(out, beam.pvalue.TaggedOutput) else written).append(out)
    return written, [d.value for d in dead]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(es_sink.time, "sleep", lambda _: None)


def _fn(client: object) -> _BulkWriteFn:
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


def test_a_create_only_write_that_finds_the_document_there_is_done() -> None:
    client = ScriptedClient([[409, 409]])
    batch = [IndexRequest("i", "replayed", {}, create=True), IndexRequest("i", "overwrite", {})]
    written, dead = _run(_fn(client), batch)
    assert client.actions == [["create", "index"]]
    assert [r.doc_id for r in written] == ["replayed"], "the first write wins"
    assert [d.origin for d in dead] == ["i/overwrite"], "a conflict on a plain index is still an error"


def test_whole_request_failure_is_retried() -> None:
    from elasticsearch import ConnectionError as EsConnectionError

    client = ScriptedClient([EsConnectionError("refused"), [201]])
    written, _dead = _run(_fn(client), [IndexRequest("i", "a", {})])
    assert [r.doc_id for r in written] == ["a"]
    assert len(client.calls) == 2


def _api_error(status: int, message: str) -> ApiError:
    meta = ApiResponseMeta(
        status=status,
        http_version="1.1",
        headers=HttpHeaders(),
        duration=0.0,
        node=NodeConfig("http", "es", 9200),
    )
    return ApiError(message, meta=meta, body="")


class SizeLimitedClient:
    """Refuses a whole request with a 413 when its body holds a huge document or more than ``max_docs``."""

    def __init__(self, max_docs: int = 100, max_calls: int = 50) -> None:
        self.max_docs = max_docs
        self.max_calls = max_calls  # a client error retried for ever would otherwise hang the test
        self.calls: list[list[str]] = []
        self.actions: list[list[str]] = []

    def bulk(self, operations: list[dict[str, Any]], refresh: Any = None) -> dict[str, Any]:
        ids = [op["index"]["_id"] for op in operations[::2]]
        self.calls.append(ids)
        assert len(self.calls) <= self.max_calls, "a request-level client error was retried"
        if len(ids) > self.max_docs or any(source.get("huge") for source in operations[1::2]):
            raise _api_error(413, "Request Entity Too Large")
        return {"errors": False, "items": [{"index": {"status": 201}} for _ in ids]}


def test_an_oversized_document_is_dead_lettered_and_the_rest_written() -> None:
    batch = [IndexRequest("i", f"d{n}", {"huge": n == 2}, tag=n) for n in range(5)]
    written, dead = _run(_fn(SizeLimitedClient()), batch)
    assert sorted(r.doc_id for r in written) == ["d0", "d1", "d3", "d4"]
    assert [(d.origin, d.tag) for d in dead] == [("i/d2", 2)]
    assert dead[0].reason.startswith("413: request rejected: ApiError(413, 'Request Entity Too Large')")


def test_a_batch_too_large_as_a_whole_is_written_in_halves() -> None:
    client = SizeLimitedClient(max_docs=2)
    written, dead = _run(_fn(client), [IndexRequest("i", f"d{n}", {}) for n in range(5)])
    assert sorted(r.doc_id for r in written) == [f"d{n}" for n in range(5)]
    assert dead == []


@pytest.mark.parametrize("status", [400, 401, 403])
def test_a_request_level_client_error_on_one_document_is_a_dead_letter(status: int) -> None:
    client = ScriptedClient([_api_error(status, "rejected")])
    written, dead = _run(_fn(client), [IndexRequest("i", "a", {})])
    assert written == []
    assert [d.reason.split(":")[0] for d in dead] == [str(status)]
    assert len(client.calls) == 1


@pytest.mark.parametrize("status", [408, 429, 503])
def test_a_request_level_transient_error_is_retried(status: int) -> None:
    client = ScriptedClient([_api_error(status, "busy"), [201]])
    written, dead = _run(_fn(client), [IndexRequest("i", "a", {})])
    assert [r.doc_id for r in written] == ["a"]
    assert dead == []


def test_a_document_that_cannot_be_serialised_is_a_dead_letter() -> None:
    client = ScriptedClient([SerializationError("cannot serialise"), [201]])
    written, dead = _run(_fn(client), [IndexRequest("i", "a", {})])
    assert written == []
    assert dead[0].reason.startswith("400: request rejected: cannot serialise")


class ClosingClient(ScriptedClient):
    """The worker's teardown closes the client during a bulk call (another thread in Beam): every later
    call fails the way a closed connection pool does."""

    def __init__(self, fn: _BulkWriteFn) -> None:
        super().__init__([])
        self.fn = fn

    def bulk(self, operations: list[dict[str, Any]], refresh: Any = None) -> dict[str, Any]:
        self.calls.append([op["index"]["_id"] for op in operations[::2]])
        self.fn.teardown()
        raise EsConnectionError("Connection error caused by: ClosedPoolError(Pool is closed.)")

    def close(self) -> None:
        pass


def test_a_teardown_mid_write_ends_the_retries_and_answers_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """Without it the retry loop runs on a closed client until the process exits, warning each time;
    the documents it did not write get no receipt, so their offsets stay uncommitted and are replayed."""
    fn = _BulkWriteFn("http://unused", refresh=None, max_backoff_s=1)
    client = ClosingClient(fn)
    fn._es = client  # type: ignore[assignment]
    written, dead = _run(fn, [IndexRequest("i", "d0", {}), IndexRequest("i", "d1", {})])
    assert (written, dead) == ([], [])
    assert client.calls == [["d0", "d1"]]
    assert "retrying" not in caplog.text
