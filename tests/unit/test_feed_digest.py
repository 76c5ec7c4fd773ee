from datetime import UTC, datetime

from connectors.feeds.digest import DigestRequest, ProcessDigester, digest
from schemas.feed import FeedConfig
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
    assert [i.guid for i in local.items] == ["d-0", "d-1", "d-2", "d-3"]


def test_unusable_body_is_rejected_with_its_kind() -> None:
    html = DigestRequest(b"<html><body>hi</body></html>", {"content-type": "text/html"}, FEED.url, FEED, NOW)
    assert digest(html).rejected is not None
    assert digest(html).rejected[0] == "not_a_feed"


def test_changed_guid_for_a_known_link_switches_to_link_ids() -> None:
    first = digest(DigestRequest(rss("d", 2), XML, FEED.url, FEED, NOW))
    known = {i.url: i.guid for i in first.items if i.url and i.guid}
    changed = rss("d", 2).replace(b">d-", b">d-new-")
    second = digest(DigestRequest(changed, XML, FEED.url, FEED, NOW, link_guids=known))
    assert second.guid_unstable
    assert {i.id_basis for i in second.items} == {"link"}
