import apache_beam as beam

from connectors.es_sink import IndexRequest
from connectors.kafka_source import KafkaRecord
from pipeline.smoke import DecodeJsonFn


def _decode(record: KafkaRecord) -> list[object]:
    return list(DecodeJsonFn("idx").process(record))


def _rec(key: bytes | None, value: bytes | None) -> KafkaRecord:
    return KafkaRecord("t", 1, 7, key, value, 0)


def test_keyed_object_becomes_index_request() -> None:
    assert _decode(_rec(b"k1", b'{"a": 1}')) == [IndexRequest("idx", "k1", {"a": 1})]


def test_bad_messages_become_dead_letters_with_origin() -> None:
    for key, value, reason in [
        (None, b"{}", "no key"),
        (b"k", b"not json", "Expecting value"),
        (b"k", b"[1, 2]", "JSON object"),
        (b"\xff", b"{}", "utf-8"),
    ]:
        [out] = _decode(_rec(key, value))
        assert isinstance(out, beam.pvalue.TaggedOutput)
        assert out.value.origin == "t/1@7"
        assert reason in out.value.reason
