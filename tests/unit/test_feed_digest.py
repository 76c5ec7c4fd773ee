from datetime import UTC, datetime

from connectors.feeds.digest import DigestRequest, ProcessDigester, digest
from connectors.stack.process import is_alive
from schemas.feed import FeedConfig
from schemas.item import FeedItem
from tests.support.feeds import rss

FEED = FeedConfig(id="d", url="https://news.example/d.xml", name="D")
NOW = datetime(2026, 11, 28, tzinfo=UTC)
XML = {"content-type": "application/rss+xml"}


def test_worker_process_digest_equals_in_thread_digest() -> None:
    request = DigestRequest(rss("d", 4), XML, FEED.url, FEED, NOW)
    digester = ProcessDigester(1)
    try:
        remote = digester(request)
    finally:
        digester.close()
    local = digest(request)
    assert remote == local
    items = [FeedItem.model_validate_json(r.value) for r in local.items]
    assert [i.guid for i in items] == ["d-0", "d-1", "d-2", "d-3"]
    assert [r.item_id for r in local.items] == [i.item_id for i in items]
    assert local.links == {i.url: i.guid for i in items}


def test_recently_published_items_are_left_out_but_their_links_kept() -> None:
    first = digest(DigestRequest(rss("d", 3), XML, FEED.url, FEED, NOW))
    seen = frozenset(r.item_id for r in first.items[:2])
    again = digest(DigestRequest(rss("d", 3), XML, FEED.url, FEED, NOW, recent_ids=seen))
    assert again.items == first.items[2:]
    assert again.links == first.links


def test_unusable_body_is_rejected_with_its_kind() -> None:
    html = DigestRequest(b"<html><body>hi</body></html>", {"content-type": "text/html"}, FEED.url, FEED, NOW)
    assert digest(html).rejected is not None
    assert digest(html).rejected[0] == "not_a_feed"


def test_changed_guid_for_a_known_link_switches_to_link_ids() -> None:
    first = digest(DigestRequest(rss("d", 2), XML, FEED.url, FEED, NOW))
    known = first.links
    changed = rss("d", 2).replace(b">d-", b">d-new-")
    second = digest(DigestRequest(changed, XML, FEED.url, FEED, NOW, link_guids=known))
    assert second.guid_unstable
    assert {FeedItem.model_validate_json(r.value).id_basis for r in second.items} == {"link"}


def test_every_worker_is_running_once_the_digester_exists() -> None:
    digester = ProcessDigester(2)
    try:
        assert len(digester.pids) == 2
        assert all(is_alive(pid) for pid in digester.pids)
    finally:
        digester.close()


def test_a_guid_that_only_became_relative_is_not_a_reissued_guid() -> None:
    """State from before GUIDs were kept as published holds them resolved against the feed's URL."""
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>A</title><link>https://news.example/a</link><guid>/story/1</guid></item>"
        b"</channel></rss>"
    )
    known = {"https://news.example/a": "https://news.example/story/1"}
    again = digest(DigestRequest(body, XML, FEED.url, FEED, NOW, link_guids=known))
    assert not again.guid_unstable
    changed = digest(
        DigestRequest(body.replace(b"/story/1", b"/story/2"), XML, FEED.url, FEED, NOW, link_guids=known)
    )
    assert changed.guid_unstable
