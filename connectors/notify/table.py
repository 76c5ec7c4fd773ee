"""A durable key → JSON table on the compacted topic ``watchfloor.state``, restricted to one key prefix.

The notifier keeps its delivery ledger, queued digest entries and snoozes here: reading the topic to
its end rebuilds them on any host, and `put` returns only once the broker acknowledged the write
(acks=all), so whatever the notifier does next — commit an offset — never runs ahead of the record.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from connectors.kafka_compacted import CompactedTopicReader
from connectors.kafka_sink import make_producer


class CompactedTable:
    def __init__(self, bootstrap: str, topic: str, prefix: str) -> None:
        self._topic = topic
        self._prefix = prefix
        self._producer = make_producer(bootstrap, linger_ms=0)
        self._reader = CompactedTopicReader(bootstrap, topic)
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Read the topic up to its current end: afterwards every write so far, from any host, is visible."""
        with self._lock:
            self._reader.catch_up(self._apply)

    def _apply(self, raw_key: bytes | None, value: bytes | None) -> None:
        key = (raw_key or b"").decode("utf-8", "replace")
        if not key.startswith(self._prefix):
            return
        if value is None:
            self._rows.pop(key[len(self._prefix) :], None)
        else:
            self._rows[key[len(self._prefix) :]] = json.loads(value)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._rows.get(key)

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return list(self._rows.items())

    def put(self, key: str, value: dict[str, Any] | None) -> None:
        """Write (None deletes) and wait for the broker's acknowledgement."""
        payload = None if value is None else json.dumps(value, separators=(",", ":")).encode()
        self._producer.send(self._topic, key=(self._prefix + key).encode(), value=payload).get(timeout=60)
        with self._lock:
            if value is None:
                self._rows.pop(key, None)
            else:
                self._rows[key] = value

    def close(self) -> None:
        self._producer.close()
        self._reader.close()
