"""Produce to Kafka from Beam: acks=all, idempotent producer, and a bundle only finishes once acked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import PCollection
from apache_beam.utils.windowed_value import WindowedValue
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
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        to_record: Callable[[Any], tuple[bytes, bytes]],
        tag_of: Callable[[Any], Any] | None,
    ) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._to_record = to_record
        self._tag_of = tag_of
        self._producer: KafkaProducer | None = None
        self._sent: list[WindowedValue] = []

    def setup(self) -> None:
        self._producer = make_producer(self._bootstrap)

    def start_bundle(self) -> None:
        self._sent = []

    def process(
        self, element: Any, timestamp: Any = beam.DoFn.TimestampParam, window: Any = beam.DoFn.WindowParam
    ) -> None:
        assert self._producer is not None
        key, value = self._to_record(element)
        self._producer.send(self._topic, key=key, value=value)
        tag = self._tag_of(element) if self._tag_of else None
        if tag is not None:
            self._sent.append(WindowedValue(tag, timestamp, (window,)))

    def finish_bundle(self) -> Iterator[WindowedValue]:
        # A bundle that returns has been acknowledged: a failure fails the bundle, which the runner retries.
        assert self._producer is not None
        self._producer.flush()
        sent, self._sent = self._sent, []
        yield from sent

    def teardown(self) -> None:
        if self._producer is not None:
            self._producer.close()


class WriteToKafka(beam.PTransform[PCollection[Any], Any]):
    """Each element becomes one record via ``to_record`` (key, value).

    Output: ``tag_of(element)`` for every element the broker acknowledged (none without ``tag_of``).
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        to_record: Callable[[Any], tuple[bytes, bytes]],
        tag_of: Callable[[Any], Any] | None = None,
    ) -> None:
        super().__init__()
        self._fn = _ProduceFn(bootstrap, topic, to_record, tag_of)

    def expand(self, elements: PCollection[Any]) -> PCollection[Any]:
        return elements | "Produce" >> beam.ParDo(self._fn)


def dead_letter_record(letter: DeadLetter) -> tuple[bytes, bytes]:
    return letter.key.encode(), letter.model_dump_json().encode()
