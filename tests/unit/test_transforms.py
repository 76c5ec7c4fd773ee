"""DecodeItemFn called directly (no runner): Kafka record -> Tracked item, or a dead letter settling it."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from apache_beam.pvalue import TaggedOutput

from connectors.demo.corpus import Corpus, render_rss
from connectors.feeds.normalize import normalize_feed
from connectors.feeds.parse import parse_feed
from connectors.kafka_source import KafkaRecord
from pipeline.records import DEAD, Tracked
from pipeline.tracking import Origin, Receipt
from pipeline.transforms import DecodeItemFn
from schemas.deadletter import DeadLetter
from schemas.item import FeedItem

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
TOPIC = "watchfloor.items"
ORIGIN = Origin(TOPIC, 2, 41, 39)


def _demo_item() -> FeedItem:
    corpus = Corpus.load()
    outlet = corpus.outlets["wire-global"]
    [feed] = [f for f in corpus.feeds(lambda o: f"http://127.0.0.1:1/{o}.xml") if f.id == outlet.id]
    parsed = parse_feed(
        render_rss(outlet, corpus.by_outlet(outlet.id), T0), {"content-type": "application/rss+xml"}, feed.url
    )
    items, errors = normalize_feed(parsed, feed, T0 + timedelta(minutes=30))
    assert not errors
    return items[0]


ITEM = _demo_item()
VALUE = ITEM.model_dump_json().encode()


def _record(value: bytes | None, key: bytes | None = ITEM.item_id.encode()) -> KafkaRecord:
    return KafkaRecord(TOPIC, 2, 41, key, value, 1_777_874_400_000, (("schema-version", b"1"),), first=39)


def _decode(record: KafkaRecord) -> list[Any]:
    return list(DecodeItemFn().process(record))


def _dead(record: KafkaRecord) -> DeadLetter:
    [out] = _decode(record)
    assert isinstance(out, TaggedOutput)
    assert out.tag == DEAD
    letter = out.value
    assert isinstance(letter, DeadLetter)
    assert letter.stage == "DecodeItems"
    assert letter.origin == "watchfloor.items/2@41"
    # The dead letter is the item's only part: writing it lets the offset (and the gap 39-40) commit.
    assert letter.tag == Receipt(ORIGIN, "dead", 1)
    return letter


def _without(field: str) -> bytes:
    data = json.loads(VALUE)
    del data[field]
    return json.dumps(data).encode()


def _with(**fields: Any) -> bytes:
    return json.dumps({**json.loads(VALUE), **fields}).encode()


def test_a_feed_item_keyed_by_its_id_is_tracked_with_its_origin() -> None:
    assert _decode(_record(VALUE)) == [Tracked(ORIGIN, ITEM)]


def test_invalid_json_is_a_dead_letter() -> None:
    letter = _dead(_record(b"{not json"))
    assert letter.reason.startswith("not a valid FeedItem: ")
    assert "Invalid JSON" in letter.reason
    assert letter.payload == "{not json"


def test_an_empty_or_missing_value_is_a_dead_letter() -> None:
    assert "not a valid FeedItem" in _dead(_record(None)).reason
    assert "not a valid FeedItem" in _dead(_record(b"")).reason


def test_a_missing_field_is_named_in_the_reason() -> None:
    letter = _dead(_record(_without("title")))
    assert "title: Field required" in letter.reason
    assert letter.payload == _without("title").decode()


def test_an_unknown_field_is_a_schema_violation() -> None:
    assert "surprise: Extra inputs are not permitted" in _dead(_record(_with(surprise=1))).reason


def test_a_naive_timestamp_is_a_schema_violation() -> None:
    assert "fetched:" in _dead(_record(_with(fetched="2026-05-04T06:30:00"))).reason


def test_an_unknown_schema_version_is_a_schema_violation() -> None:
    assert "schema_version:" in _dead(_record(_with(schema_version=2))).reason


def test_a_json_value_that_is_not_an_object_is_a_dead_letter() -> None:
    assert "not a valid FeedItem" in _dead(_record(b"[1, 2]")).reason


def test_a_key_other_than_the_item_id_is_a_dead_letter() -> None:
    letter = _dead(_record(VALUE, key=b"someone-else"))
    assert letter.reason == "message key is not the item_id"
    assert json.loads(letter.payload)["item_id"] == ITEM.item_id


def test_a_key_that_is_not_utf8_is_a_mismatch_not_a_crash() -> None:
    assert _dead(_record(VALUE, key=b"\xff\xfe")).reason == "message key is not the item_id"
