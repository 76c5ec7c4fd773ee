"""Produce to Kafka from Beam: acks=all, idempotent producer, and a bundle only finishes once acked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import PCollection, TaggedOutput
from apache_beam.utils.windowed_value import WindowedValue
from kafka import KafkaProducer

from schemas.deadletter import DeadLetter

DEAD = "dead"
MAX_RECORD_BYTES = 1_048_576 - 1_024
"""What one record may carry: kafka-python's default max_request_size (and the broker's message.max.bytes,
about the same), less room for the record's own framing. A larger one fails every send, and so its bundle,
for ever."""


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


class FitRecordsFn(beam.DoFn):
    """Elements whose record fits in `limit` bytes pass; a larger one becomes a dead letter (``DEAD``)
    carrying its receipt, so that one oversized record settles instead of failing its bundle for ever."""

    def __init__(
        self,
        stage: str,
        to_record: Callable[[Any], tuple[bytes, bytes]],
        receipt_of: Callable[[Any], Any],
        limit: int = MAX_RECORD_BYTES,
    ) -> None:
        self._stage = stage
        self._to_record = to_record
        self._receipt_of = receipt_of
        self._limit = limit

    def process(self, element: Any) -> Iterator[Any]:
        key, value = self._to_record(element)
        size = len(key) + len(value)
        if size <= self._limit:
            yield element
            return
        receipt = self._receipt_of(element)
        reason = f"record of {size:,} bytes is over the {self._limit:,}-byte limit of a Kafka record"
        origin = str(getattr(receipt, "origin", key.decode(errors="replace")))
        yield TaggedOutput(DEAD, DeadLetter.of(self._stage, reason, origin, value, receipt))


def dead_letter_record(letter: DeadLetter) -> tuple[bytes, bytes]:
    return letter.key.encode(), letter.model_dump_json().encode()
