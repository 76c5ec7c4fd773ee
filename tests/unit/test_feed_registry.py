from pathlib import Path

import pytest

from connectors.feeds.registry import add_feed, load_registry, remove_feed
from schemas.feed import FeedConfig, SourceTier

REPO = Path(__file__).resolve().parents[2]


def test_default_registry_is_valid() -> None:
    feeds, errors = load_registry(sorted((REPO / "deploy" / "feeds").glob("*.yaml")))
    assert errors == []
    assert len(feeds) >= 20
    tiers = {f.tier for f in feeds}
    assert tiers == set(SourceTier)


def test_bad_entries_are_reported_one_by_one_and_the_rest_load(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "feeds:\n"
        "  - {id: good, url: 'https://a.example/rss', name: A}\n"
        "  - {id: ftp-feed, url: 'ftp://a.example/rss', name: B}\n"
        "  - {id: nohost, url: 'http:///rss', name: C}\n"
        "  - {id: Bad Id, url: 'https://b.example/rss', name: D}\n"
        "  - {id: good, url: 'https://c.example/rss', name: E}\n"
        "  - {id: slow, url: 'https://d.example/rss', name: F, min_interval_s: 900, max_interval_s: 60}\n"
    )
    feeds, errors = load_registry([path])
    assert [f.id for f in feeds] == ["good"]
    messages = {e.feed_id: e.message for e in errors}
    assert "http or https" in messages["ftp-feed"]
    assert "no host" in messages["nohost"]
    assert "slug" in messages["Bad Id"]
    assert "duplicate" in messages["good"]
    assert "min_interval_s" in messages["slow"]


def test_unreadable_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("feeds: [unclosed")
    feeds, errors = load_registry([path])
    assert feeds == []
    assert (
        str(errors[0])
        == f"{path}: not valid YAML: expected ',' or ']', but got '<stream end>' (line 1, column 17)"
    )


def test_add_remove_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    feed = FeedConfig(id="x1", url="https://x.example/feed", name="X", country="KR", tier=SourceTier.WIRE)
    add_feed(path, feed)
    with pytest.raises(ValueError, match="already"):
        add_feed(path, feed)
    assert load_registry([path])[0] == [feed]
    remove_feed(path, "x1")
    assert load_registry([path])[0] == []
    with pytest.raises(KeyError):
        remove_feed(path, "x1")
