"""Write documents to Elasticsearch from Beam: batched bulk requests, idempotent by ``_id``.

Transient failures (connection errors, 408, 429, 5xx — for the whole request or single items) are
retried with capped exponential backoff for as long as it takes: a stalled sink holds back the pipeline
instead of losing documents. Client errors are not transient, and retrying them would stall the job for
ever: a document's own 4xx (a mapping conflict) makes it a dead letter with the reason. A 4xx for the
whole request (413 for an oversized body) says nothing about which document caused it, so the batch is
halved until the error is pinned on single documents, which become dead letters; the rest is written.
Beam has no Elasticsearch IO for Python; this is the DoFn its docs suggest.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import DoOutputsTuple, PCollection
from elasticsearch import ApiError, Elasticsearch, SerializationError, TransportError

from connectors import testfault
from schemas.deadletter import DeadLetter

log = logging.getLogger(__name__)

DEAD = "dead"


@dataclass(frozen=True)
class IndexRequest:
    index: str
    doc_id: str
    source: dict[str, Any]
    tag: Any = None
    """Opaque to the sink, passed through to its outputs (the pipeline's write receipts)."""
    create: bool = False
    """Write only if no document has this id (the first write wins: a replayed article must not move
    the document to the story its stream position would give it now)."""
    partial: bool = False
    """Merge `source` into the stored document (an update: lists replaced whole). The document may not
    be written yet (its write is in another batch in flight), so a missing one is retried a while."""
    union_key: str | None = None
    """For a partial update: merge its lists with the stored document's by this key of their entries
    (stored entries first), updating only the version read; a concurrent change is a conflict, retried.
    Bundles run in any order, so two updates of one document may arrive newest first: replacing lists
    whole would then keep the older, shorter one."""

    @property
    def key(self) -> tuple[str, str, bool]:
        return self.index, self.doc_id, self.partial

    @property
    def op(self) -> str:
        return "update" if self.partial else "create" if self.create else "index"


CONFLICT = 409
MISSING = 404
MISSING_RETRIES = 8
"""Attempts (about a minute of backoff) before an update of a document never written is a dead letter."""


def _is_transient(status: int, attempt: int = 0, partial: bool = False) -> bool:
    return (
        status in (408, 429)
        or status >= 500
        or (partial and status == MISSING and attempt < MISSING_RETRIES)
        or (partial and status == CONFLICT)  # a conditional update lost a race: read again, merge again
    )


def merged(stored: dict[str, Any], update: dict[str, Any], key: str) -> dict[str, Any]:
    """`update` with each of its lists merged into `stored`'s list at the same path by entries' `key`:
    the stored entries in their order, then the update's entries not among them."""
    out: dict[str, Any] = {}
    for name, value in update.items():
        held = stored.get(name)
        if isinstance(value, dict):
            out[name] = merged(held if isinstance(held, dict) else {}, value, key)
        elif isinstance(value, list) and isinstance(held, list):
            known = {entry.get(key) for entry in held if isinstance(entry, dict)}
            out[name] = held + [e for e in value if not (isinstance(e, dict) and e.get(key) in known)]
        else:
            out[name] = value
    return out


def _request_status(exc: TransportError | ApiError) -> int:
    """A failed request's HTTP status; a document that cannot be serialised is a client error (400),
    a connection failure or timeout a transient one (503)."""
    if isinstance(exc, ApiError):
        return exc.status_code
    return 400 if isinstance(exc, SerializationError) else 503


class _BulkWriteFn(beam.DoFn):
    def __init__(self, es_url: str, refresh: str | None, max_backoff_s: float) -> None:
        self._es_url = es_url
        self._refresh = refresh
        self._max_backoff_s = max_backoff_s
        self._es: Elasticsearch | None = None
        self._torn_down = False

    def setup(self) -> None:
        # No retries in the client: process retries with backoff, and a closed client must not log them.
        self._es = Elasticsearch(self._es_url, request_timeout=30, max_retries=0)
        self._torn_down = False

    def teardown(self) -> None:
        """Also runs while ``process`` writes, on another thread, when a stopping runner shuts the worker
        down with bundles active: the retry loop then ends, and the unanswered items are replayed."""
        self._torn_down = True
        if self._es is not None:
            self._es.close()

    def process(self, batch: list[IndexRequest]) -> Iterator[Any]:
        # One write and one update per document id (the latest request of each wins; writes go first,
        # so an update applies to the document written in the same batch); every tag is answered.
        pending: dict[tuple[str, str, bool], list[IndexRequest]] = {}
        for r in sorted(batch, key=lambda r: r.partial):
            pending.setdefault(r.key, []).append(r)
        attempt = 0
        while pending and not self._torn_down:
            failures = self._bulk([reqs[-1] for reqs in pending.values()])
            testfault.checkpoint("es-written", len(pending) - len(failures))
            for key in [k for k in pending if k not in failures]:
                yield from pending.pop(key)
            for key, (status, error) in failures.items():
                if not _is_transient(status, attempt, partial=key[2]):
                    for req in pending.pop(key):
                        yield beam.pvalue.TaggedOutput(
                            DEAD,
                            DeadLetter.of(
                                "WriteToElasticsearch",
                                f"{status}: {error}",
                                f"{req.index}/{req.doc_id}",
                                json.dumps(req.source, default=str),
                                tag=req.tag,
                            ),
                        )
            if pending and not self._torn_down:
                attempt += 1
                delay = min(self._max_backoff_s, 0.1 * 2**attempt) * random.uniform(0.5, 1.0)  # noqa: S311
                log.warning("elasticsearch: retrying %d documents in %.1fs", len(pending), delay)
                time.sleep(delay)

    def _bulk(self, requests: list[IndexRequest]) -> dict[tuple[str, str, bool], tuple[int, str]]:
        """Bulk requests; returns failed items by key. A transient request failure fails every item; a
        client error is pinned on single documents by halving the batch."""
        assert self._es is not None
        stored = self._stored([r for r in requests if r.partial and r.union_key])
        operations: list[dict[str, Any]] = []
        for r in requests:
            action: dict[str, Any] = {"_index": r.index, "_id": r.doc_id}
            body = r.source
            if (r.index, r.doc_id) in stored and r.union_key:
                source, seq_no, primary_term = stored[(r.index, r.doc_id)]
                body = merged(source, r.source, r.union_key)
                action |= {"if_seq_no": seq_no, "if_primary_term": primary_term}
            operations += [{r.op: action}, {"doc": body} if r.partial else body]
        try:
            resp = self._es.bulk(operations=operations, refresh=self._refresh)
        except (TransportError, ApiError) as exc:
            status = _request_status(exc)
            if _is_transient(status) or len(requests) == 1:
                return {r.key: (status, f"request rejected: {exc}"[:1000]) for r in requests}
            half = len(requests) // 2
            return self._bulk(requests[:half]) | self._bulk(requests[half:])
        failures = {}
        if resp.get("errors"):
            for r, item in zip(requests, resp["items"], strict=True):
                result = item[r.op]
                if r.create and result.get("status") == CONFLICT:
                    continue  # already written: what a create-only write wants
                if result.get("status", 500) >= 300:
                    failures[r.key] = (result["status"], json.dumps(result.get("error"))[:1000])
        return failures

    def _stored(self, requests: list[IndexRequest]) -> dict[tuple[str, str], tuple[dict[str, Any], int, int]]:
        """The stored source, sequence number and primary term of the documents these updates merge into
        (a document not written yet is absent: its update is sent plain, and a 404 is retried)."""
        if not requests:
            return {}
        assert self._es is not None
        docs = [{"_index": r.index, "_id": r.doc_id} for r in requests]
        try:
            found = self._es.mget(docs=docs)["docs"]
        except (TransportError, ApiError):
            return {}  # the bulk request that follows meets the same trouble and is retried
        return {
            (d["_index"], d["_id"]): (d["_source"], d["_seq_no"], d["_primary_term"])
            for d in found
            if d.get("found") and "_seq_no" in d
        }


class WriteToElasticsearch(beam.PTransform[PCollection[Any], Any]):
    """``PCollection[IndexRequest]`` → main output: the requests written; ``DEAD`` output: DeadLetters."""

    def __init__(
        self, es_url: str, max_batch: int = 500, refresh: str | None = None, max_backoff_s: float = 30.0
    ) -> None:
        super().__init__()
        self._fn = _BulkWriteFn(es_url, refresh, max_backoff_s)
        self._max_batch = max_batch

    def expand(self, requests: PCollection[Any]) -> DoOutputsTuple:
        return (
            requests
            # Per-bundle batching: a stateful, timer-driven batch (max_batch_duration_secs) relies on
            # processing-time timers, which Prism does not drive from the wall clock. A fixed size, so
            # a bundle is one bulk request (or a few): the adaptive sizing shrank batches to one or two
            # documents under load, which made every document its own request.
            | "Batch" >> beam.BatchElements(min_batch_size=self._max_batch, max_batch_size=self._max_batch)
            | "Bulk" >> beam.ParDo(self._fn).with_outputs(DEAD, main="written")
        )
