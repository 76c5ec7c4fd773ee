"""An oversized record becomes a dead letter that settles its receipt instead of failing its bundle."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from connectors.kafka_sink import DEAD, FitRecordsFn
from pipeline.tracking import Origin, Receipt

ORIGIN = Origin("items", 0, 7, 7)


def _record(element: tuple[str, int]) -> tuple[bytes, bytes]:
    name, size = element
    return name.encode(), b"x" * size


def _receipt(element: tuple[str, int]) -> Receipt:
    return Receipt(ORIGIN, f"alert-kafka-{element[0]}", 2)


def test_records_over_the_limit_become_dead_letters_with_their_receipt() -> None:
    with TestPipeline() as p:
        out = (
            p
            | beam.Create([("small", 90), ("exact", 95), ("huge", 97)])
            | beam.ParDo(FitRecordsFn("publish_alert", _record, _receipt, limit=100)).with_outputs(
                DEAD, main="ok"
            )
        )
        assert_that(out.ok, equal_to([("small", 90), ("exact", 95)]), label="fit")
        letters = out[DEAD] | beam.Map(lambda d: (d.stage, d.tag, d.origin, "101 bytes" in d.reason))
        assert_that(
            letters, equal_to([("publish_alert", _receipt(("huge", 97)), str(ORIGIN), True)]), label="dead"
        )
