"""Produce to Kafka from Beam: acks=all, idempotent producer, and a bundle only finishes once acked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import PCollection
from kafka import KafkaProducer

from schemas.deadletter import DeadLetter


def make_producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """The one way Watchfloor builds producers: nothing is acknowledged before every replica has it."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "retries": 2**31 - 1,
        "linger_ms": 5,
        "compression_type": "lz4",
    }
    config.update(overrides)
    return KafkaProducer(**config)


class _ProduceFn(beam.DoFn):
    def __init__(self, bootstrap: str, topic: str, to_record: Callable[[Any], tuple[bytes, bytes]]) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._to_record = to_record
        self._producer: KafkaProducer | None = None

    def setup(self) -> None:
        self._producer = make_producer(self._bootstrap)

    def process(self, element: Any) -> None:
        assert self._producer is not None
        key, value = self._to_record(element)
        self._producer.send(self._topic, key=key, value=value)

    def finish_bundle(self) -> None:
        # A bundle that returns has been acknowledged: a failure fails the bundle, which the runner retries.
        assert self._producer is not None
        self._producer.flush()

    def teardown(self) -> None:
        if self._producer is not None:
            self._producer.close()


class WriteToKafka(beam.PTransform[PCollection[Any], Any]):
    """A terminal sink: each element becomes one record via ``to_record`` (key, value)."""

    def __init__(self, bootstrap: str, topic: str, to_record: Callable[[Any], tuple[bytes, bytes]]) -> None:
        super().__init__()
        self._fn = _ProduceFn(bootstrap, topic, to_record)

    def expand(self, elements: PCollection[Any]) -> PCollection[Any]:
        return elements | "Produce" >> beam.ParDo(self._fn)


def dead_letter_record(letter: DeadLetter) -> tuple[bytes, bytes]:
    return letter.key.encode(), letter.model_dump_json().encode()
