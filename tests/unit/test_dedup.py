from datetime import UTC, datetime, timedelta

import pytest

from pipeline.dedup import ExactDeduper, dedup_keys, first_seen_key
from schemas.feed import SourceTier
from schemas.item import FeedItem, ItemSource

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


def _item(
    item_id: str, url: str | None, content_hash: str, published: datetime | None = T0, feed: str = "wire-a"
) -> FeedItem:
    return FeedItem(
        item_id=item_id,
        id_basis="guid",
        feed_id=feed,
        url=url,
        title="Voss weighs Castrel trip",
        language="en",
        published=published,
        fetched=T0 + timedelta(hours=1),
        source=ItemSource(feed_id=feed, name="Wire A", tier=SourceTier.WIRE, domain="wire.example"),
        content_hash=content_hash,
    )


def test_keys_are_id_url_hash_and_url_is_optional() -> None:
    assert dedup_keys(_item("i1", "https://wire.example/a", "h1")) == (
        ("id", "i1"),
        ("url", "https://wire.example/a"),
        ("hash", "h1"),
    )
    assert dedup_keys(_item("i1", None, "h1")) == (("id", "i1"), ("hash", "h1"))


def test_first_seen_key_returns_the_first_match_in_key_order() -> None:
    keys = (("id", "i1"), ("url", "u"), ("hash", "h"))
    assert first_seen_key(keys, {("hash", "h"), ("url", "u")}.__contains__) == ("url", "u")
    assert first_seen_key(keys, set().__contains__) is None


def test_same_id_is_a_duplicate() -> None:
    dedup = ExactDeduper()
    assert dedup.seen(_item("i1", "https://wire.example/a", "h1")) is None
    assert dedup.seen(_item("i1", "https://wire.example/b", "h2")) == "id"


def test_same_canonical_url_from_another_feed_is_a_duplicate() -> None:
    dedup = ExactDeduper()
    assert dedup.seen(_item("i1", "https://wire.example/a", "h1")) is None
    assert dedup.seen(_item("i2", "https://wire.example/a", "h2", feed="wire-a-asia")) == "url"


def test_same_content_hash_under_another_url_is_a_duplicate() -> None:
    dedup = ExactDeduper()
    assert dedup.seen(_item("i1", "https://wire.example/a", "h1")) is None
    assert dedup.seen(_item("i2", "https://mirror.example/a", "h1")) == "hash"
    assert dedup.seen(_item("i3", None, "h1")) == "hash"


def test_distinct_items_are_all_new_and_duplicates_record_nothing() -> None:
    dedup = ExactDeduper()
    assert dedup.seen(_item("i1", "https://wire.example/a", "h1")) is None
    assert dedup.seen(_item("i2", "https://wire.example/b", "h2")) is None
    assert len(dedup) == 6
    assert dedup.seen(_item("i1", "https://wire.example/c", "h3")) == "id"
    assert len(dedup) == 6


def test_keys_expire_by_event_time_after_the_window() -> None:
    dedup = ExactDeduper(window=timedelta(days=7))
    dedup.seen(_item("i1", "https://wire.example/a", "h1", published=T0))
    dedup.seen(_item("i2", "https://wire.example/b", "h2", published=T0 + timedelta(days=2)))
    assert dedup.expire(T0 + timedelta(days=7)) == 0  # exactly at the window edge: kept
    assert dedup.expire(T0 + timedelta(days=8)) == 3
    assert dedup.seen(_item("i1", "https://wire.example/a", "h1")) is None
    assert dedup.seen(_item("i2", "https://wire.example/b", "h2")) == "id"


def test_event_time_falls_back_to_fetched_when_unpublished() -> None:
    dedup = ExactDeduper(window=timedelta(hours=1))
    dedup.seen(_item("i1", None, "h1", published=None))  # fetched at T0 + 1 h
    assert dedup.expire(T0 + timedelta(hours=2)) == 0
    assert dedup.expire(T0 + timedelta(hours=2, seconds=1)) == 2


def test_window_must_be_positive_and_watermark_aware() -> None:
    with pytest.raises(ValueError, match="positive"):
        ExactDeduper(window=timedelta(0))
    with pytest.raises(ValueError, match="timezone-aware"):
        ExactDeduper().expire(datetime(2026, 5, 4))  # noqa: DTZ001
