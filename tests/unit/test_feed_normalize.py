import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.feeds.normalize import (
    NormalizeError,
    canonical_url,
    choose_language,
    content_hash,
    detect_language,
    html_to_text,
    looks_stable_guid,
    make_item_id,
    normalize_entry,
    normalize_feed,
)
from connectors.feeds.parse import ParsedFeed, parse_feed
from schemas.feed import FeedConfig, SourceTier

URL = "https://news.example.org/feeds/world.xml"
RSS = {"content-type": "application/rss+xml"}
FEED = FeedConfig(
    id="example-world", url=URL, name="Example World", language="en", country="GB", tier=SourceTier.WIRE
)
FETCHED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _rss(items: str, channel: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>Example World</title>{channel}{items}</channel></rss>"
    ).encode()


def _parse(items: str, channel: str = "", headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed(_rss(items, channel), RSS if headers is None else headers, URL)


# canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://News.Example.ORG/a/b?utm_source=rss&id=7&UTM_Medium=x&page=2&fbclid=abc#comments",
            "https://news.example.org/a/b?id=7&page=2",
        ),
        ("http://example.org:80/x?b=2&a=1", "http://example.org/x?b=2&a=1"),
        ("https://example.org:443", "https://example.org/"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
        (
            "https://example.org/x?gclid=1&mc_cid=2&ocid=3&ns_campaign=4&_ga=5&Ref_Src=6",
            "https://example.org/x",
        ),
        ("https://example.org/x?q=a%20b&utm%5Fcampaign=y", "https://example.org/x?q=a%20b"),
        ("https://user:pw@example.org/p", "https://example.org/p"),
        # One address, one spelling: dot segments, percent-encoding, IDN hosts, more trackers.
        ("https://example.org/./a/../b/", "https://example.org/b/"),
        ("https://example.org/a/b/..", "https://example.org/a/"),
        ("https://example.org/../../a/./", "https://example.org/a/"),
        ("https://example.org/%2e%2E/a", "https://example.org/a"),
        ("https://example.org/%7Edesk/a%2fb?q=%7e", "https://example.org/~desk/a%2Fb?q=~"),
        ("https://example.org/caf%c3%a9?q=%e2%82%ac", "https://example.org/caf%C3%A9?q=%E2%82%AC"),
        ("https://example.org/café?q=€", "https://example.org/caf%C3%A9?q=%E2%82%AC"),
        ("https://Bücher.Example/x", "https://xn--bcher-kva.example/x"),
        ("https://xn--bcher-kva.example/x", "https://xn--bcher-kva.example/x"),
        ("https://example.org/x?srsltid=AfmBOo&id=7&__twitter_impression=true", "https://example.org/x?id=7"),
        ("https://\u2603.example/x", None),  # not a valid IDN
        ("  https://example.org/p  ", "https://example.org/p"),
        ("ftp://example.org/file", None),
        ("javascript:alert(1)", None),
        ("mailto:desk@example.org", None),
        ("/relative/path", None),
        ("http://example.org:99999/", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_url(url: str | None, expected: str | None) -> None:
    assert canonical_url(url) == expected


def test_spellings_of_one_link_give_one_item_id() -> None:
    spellings = [
        "https://bücher.example/desk/./2026/../story-1?srsltid=AfmBOo",
        "https://xn--bcher-kva.example/desk/story-1?__twitter_impression=true",
        "https://XN--BCHER-KVA.example/d%65sk/story%2D1",
    ]
    ids = {make_item_id("f", guid=None, link=link, title="T", published=None) for link in spellings}
    assert len(ids) == 1


# html_to_text


def test_html_to_text_blocks_entities_and_scripts() -> None:
    html = (
        "<div><h2>Headline&nbsp;&amp; more</h2><p>First   <b>bold</b>\n para.</p>"
        "<script>alert('x')</script><style>p{color:red}</style><noscript>enable js</noscript>"
        "<iframe src='x'>frame text</iframe><ul><li>one</li><li>two</li></ul>"
        "end<br>line &#8212; &lt;ok&gt;</div>"
    )
    assert html_to_text(html) == "Headline & more\nFirst bold para.\none\ntwo\nend\nline \u2014 <ok>"


@pytest.mark.parametrize(
    "html",
    [
        "<p>unclosed <b>tags <i>everywhere",
        "<![if !supportLists]>x<![endif]><![bogus marked section",
        "<a href='x",
        "<<<>>>&&&;;",
        "<!-- unterminated comment",
        "<script>never closed",
        "\x00\ufffd</p></div>",
    ],
)
def test_html_to_text_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


def test_html_to_text_keeps_cdata_text_and_drops_scripts_in_fallback() -> None:
    assert html_to_text("<![CDATA[kept]]> text") == "kept text"
    assert html_to_text("<p>a</p><script>evil()</script><p>b</p><![bogus") == "a\nb\n<![bogus"


# GUIDs and the id ladder


@pytest.mark.parametrize(
    ("guid", "stable"),
    [
        (None, False),
        ("", False),
        ("  ", False),
        ("12", False),
        ("4711", False),
        ("null", False),
        ("undefined", False),
        ("20260301123456", True),
        ("https://news.example.org/world/2026/03/01/story", True),
        ("tag:news.example.org,2026:story-1", True),
        ("urn:uuid:5f0c7a3e-1b0e-4d3c-9a55-2d2b0f1e8c11", True),
        ("5f0c7a3e-1b0e-4d3c-9a55-2d2b0f1e8c11", True),
        ("a1b2c3d4e5f6", True),
        ("https://news.example.org/story?id=7&jsessionid=abc", False),
        ("https://news.example.org/", False),
    ],
)
def test_looks_stable_guid(guid: str | None, stable: bool) -> None:
    assert looks_stable_guid(guid, "https://news.example.org/world/story") is stable


def test_site_root_guid_is_fine_when_the_link_is_the_root() -> None:
    assert looks_stable_guid("https://news.example.org/", "https://news.example.org")


PUBLISHED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
LINK = "https://news.example.org/world/story?utm_source=rss"


def test_id_ladder_uses_stable_guid_first() -> None:
    item_id, basis = make_item_id("f", guid="tag:x,2026:1", link=LINK, title="T", published=PUBLISHED)
    assert basis == "guid"
    assert len(item_id) == 32
    assert int(item_id, 16) >= 0


@pytest.mark.parametrize(("guid", "prefer_link"), [("12", False), (None, False), ("tag:x,2026:1", True)])
def test_id_ladder_uses_link_when_guid_unstable_or_link_preferred(
    guid: str | None, prefer_link: bool
) -> None:
    item_id, basis = make_item_id(
        "f", guid=guid, link=LINK, title="T", published=PUBLISHED, prefer_link=prefer_link
    )
    assert basis == "link"
    # Tracking parameters do not change the id: the canonical link is what counts.
    same, _ = make_item_id(
        "f", guid=guid, link="HTTPS://news.example.org/world/story#x", title="T", published=PUBLISHED,
        prefer_link=prefer_link,
    )  # fmt: skip
    assert same == item_id


def test_id_ladder_prefer_link_without_link_falls_back_to_guid() -> None:
    _, basis = make_item_id("f", guid="tag:x,2026:1", link=None, title="T", published=None, prefer_link=True)
    assert basis == "guid"


def test_id_ladder_title_published_fallback() -> None:
    a = make_item_id("f", guid="1", link="javascript:void(0)", title="  Missile  TEST ", published=PUBLISHED)
    b = make_item_id("f", guid=None, link=None, title="missile test", published=PUBLISHED)
    c = make_item_id(
        "f", guid=None, link=None, title="missile test", published=PUBLISHED + timedelta(hours=1)
    )
    d = make_item_id("f", guid=None, link=None, title="missile test", published=None)
    assert a[1] == b[1] == c[1] == d[1] == "title_published"
    assert a[0] == b[0]
    assert len({b[0], c[0], d[0]}) == 3


def test_id_is_deterministic_and_salted_by_feed() -> None:
    def item_id(feed_id: str) -> str:
        return make_item_id(feed_id, guid="tag:x,2026:1", link=LINK, title="T", published=PUBLISHED)[0]

    assert item_id("feed-a") == item_id("feed-a")
    assert item_id("feed-a") != item_id("feed-b")


def test_published_offset_does_not_change_title_published_id() -> None:
    kst = timezone(timedelta(hours=9))
    a = make_item_id("f", guid=None, link=None, title="T", published=PUBLISHED)
    b = make_item_id("f", guid=None, link=None, title="T", published=PUBLISHED.astimezone(kst))
    assert a == b


# content_hash


def test_content_hash_ignores_case_whitespace_and_punctuation_variants() -> None:
    base = content_hash("Leaders meet in Seoul", "The two leaders met on Monday, officials said.")
    assert base == content_hash(
        "  LEADERS meet\tin Seoul ", "The two leaders met on Monday,\n officials said."
    )
    assert base == content_hash(
        "Leaders meet in Seoul", "The two leaders met on Monday \u2014 officials said"
    )
    assert base != content_hash("Leaders meet in Seoul", "The two leaders met on Tuesday, officials said.")
    assert base != content_hash("Leaders meet in Busan", "The two leaders met on Monday, officials said.")
    assert len(base) == 64


def test_content_hash_of_ascii_text_matches_the_unicode_rules() -> None:
    """The ASCII shortcut must give what NFKC + casefold + Unicode punctuation give, char for char."""
    text = "".join(chr(c) for c in range(128)) + ' Mixed CASE, re-sent: "quoted" (v2)!'

    def reference(value: str) -> str:
        folded = unicodedata.normalize("NFKC", value).casefold()
        spaced = "".join(" " if unicodedata.category(c).startswith("P") else c for c in folded)
        return " ".join(spaced.split())

    expected = hashlib.sha256(f"{reference(text)}\n{reference(text[::-1])}".encode()).hexdigest()
    assert content_hash(text, text[::-1]) == expected
    # A non-ASCII copy of the same words (a fullwidth comma) still hashes equal to its ASCII twin.
    assert content_hash("a, b", "c") == content_hash("a\uff0c b", "c")


# language


RUSSIAN = "Северная Корея запустила баллистическую ракету в сторону Японского моря, сообщили военные"


def test_detect_language() -> None:
    assert detect_language(RUSSIAN) == "ru"
    assert detect_language("North Korea fired a ballistic missile toward the sea, Japan said") == "en"
    assert detect_language("Kim Jong Un") is None  # too short to guess


def test_choose_language_rule() -> None:
    assert choose_language(RUSSIAN, "en") == "ru"  # long, confident detection beats the declaration
    assert choose_language("Пуск ракеты", "en") == "en"  # too short: the declaration stands
    assert choose_language("Trump Putin Xi summit talks", "de") == "de"  # not confident: declaration


# normalize_entry / normalize_feed


def test_normalize_entry_full() -> None:
    parsed = _parse(
        "<item><title>Talks &lt;b&gt;resume&lt;/b&gt;</title>"
        "<link>https://News.Example.org/world/talks?utm_source=rss&amp;id=3#top</link>"
        "<guid isPermaLink='false'>tag:news.example.org,2026:talks</guid>"
        "<description>&lt;p&gt;Negotiators &amp;amp; envoys met.&lt;/p&gt;</description>"
        "<content:encoded><![CDATA[<p>Negotiators met.</p><p>Second paragraph.</p><script>x()</script>]]>"
        "</content:encoded>"
        "<category>Diplomacy</category><category>Asia</category><category>Diplomacy</category>"
        "<dc:creator>Jane Roe</dc:creator>"
        "<pubDate>Sun, 01 Mar 2026 18:30:00 +0900</pubDate></item>",
        channel="<language>en-us</language>",
    )
    item = normalize_entry(parsed.entries[0], FEED, parsed, FETCHED)
    assert item.title == "Talks resume"
    assert item.summary == "Negotiators & envoys met."
    assert item.content == "Negotiators met.\nSecond paragraph."
    assert item.url == "https://news.example.org/world/talks?id=3"
    assert item.original_url == "https://News.Example.org/world/talks?utm_source=rss&id=3#top"
    assert item.guid == "tag:news.example.org,2026:talks"
    assert item.id_basis == "guid"
    assert item.authors == ("Jane Roe",)
    assert item.tags == ("Diplomacy", "Asia")
    assert item.published == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert item.published.tzinfo is UTC
    assert item.updated is None
    assert item.fetched == FETCHED
    assert item.language == "en"
    assert item.source.domain == "news.example.org"
    assert (item.source.feed_id, item.source.name, item.source.country) == (
        "example-world",
        "Example World",
        "GB",
    )
    assert item.source.tier is SourceTier.WIRE
    assert item.content_hash == content_hash("Talks resume", item.content)
    assert item.feed_bozo is None


def test_plain_text_title_keeps_angle_brackets() -> None:
    parsed = _parse(
        "<item><title>Use the &lt;b&gt; tag &amp; more</title><link>https://ex.org/a</link></item>"
    )
    assert parsed.entries[0]["title_detail"]["type"] == "text/plain"
    assert normalize_entry(parsed.entries[0], FEED, parsed, FETCHED).title == "Use the <b> tag & more"


def test_title_falls_back_to_summary() -> None:
    long_text = "word " * 60
    parsed = _parse(f"<item><description>{long_text}</description></item>")
    item = normalize_entry(parsed.entries[0], FEED, parsed, FETCHED)
    assert item.title == long_text[:120].strip()
    assert item.id_basis == "title_published"


def test_entry_with_nothing_is_rejected_but_others_survive() -> None:
    parsed = _parse(
        "<item><title>Good one</title><link>https://ex.org/1</link></item>"
        "<item><author>nobody@example.org</author></item>"
        "<item><link>https://ex.org/3</link></item>"
    )
    with pytest.raises(NormalizeError):
        normalize_entry(parsed.entries[1], FEED, parsed, FETCHED)
    items, failures = normalize_feed(parsed, FEED, FETCHED)
    assert [i.url for i in items] == ["https://ex.org/1", "https://ex.org/3"]
    assert failures == [(1, "entry has no title, summary, content or link")]


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Sun, 01 Mar 2026 10:00:00 -0500", datetime(2026, 3, 1, 15, 0, tzinfo=UTC)),
        ("2026-03-01T10:00:00+09:00", datetime(2026, 3, 1, 1, 0, tzinfo=UTC)),
        ("Tue, 03 Mar 2026 11:00:00 GMT", datetime(2026, 3, 3, 11, 0, tzinfo=UTC)),  # within 2 days ahead
        ("Wed, 04 Mar 2026 13:00:00 GMT", None),  # more than 2 days after fetching
        ("Mon, 01 Jan 1979 00:00:00 GMT", None),
        ("not a date", None),
    ],
)
def test_published_is_utc_aware_and_plausible(date: str, expected: datetime | None) -> None:
    parsed = _parse(f"<item><title>T</title><pubDate>{date}</pubDate></item>")
    item = normalize_entry(parsed.entries[0], FEED, parsed, FETCHED)
    assert item.published == expected
    if item.published is not None:
        assert item.published.utcoffset() == timedelta(0)


def test_atom_updated_is_kept_apart_from_published() -> None:
    body = (
        b"<feed xmlns='http://www.w3.org/2005/Atom'><title>A</title><entry><title>Only updated</title>"
        b"<id>tag:ex.org,2026:u</id><updated>2026-02-28T08:00:00Z</updated></entry>"
        b"<entry><title>Only published</title><id>tag:ex.org,2026:p</id>"
        b"<published>2026-02-27T08:00:00Z</published></entry></feed>"
    )
    parsed = parse_feed(body, {"content-type": "application/atom+xml"}, URL)
    first, second = (normalize_entry(e, FEED, parsed, FETCHED) for e in parsed.entries)
    assert (first.published, first.updated) == (None, datetime(2026, 2, 28, 8, tzinfo=UTC))
    assert (second.published, second.updated) == (datetime(2026, 2, 27, 8, tzinfo=UTC), None)


def test_naive_fetched_is_refused() -> None:
    parsed = _parse("<item><title>T</title></item>")
    with pytest.raises(ValueError, match="timezone-aware"):
        normalize_entry(parsed.entries[0], FEED, parsed, FETCHED.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        normalize_feed(parsed, FEED, FETCHED.replace(tzinfo=None))


def test_bozo_feed_still_yields_items_with_reason() -> None:
    parsed = _parse("<item><title>Broken&nbsp;entity</title><link>https://ex.org/b</link></item>")
    assert parsed.bozo
    items, failures = normalize_feed(parsed, FEED, FETCHED)
    assert failures == []
    assert len(items) == 1
    assert items[0].feed_bozo == parsed.bozo_reason
    assert items[0].feed_bozo is not None
    assert items[0].feed_bozo.startswith("SAXParseException:")


def test_relative_link_is_joined_without_headers() -> None:
    parsed = _parse("<item><title>T</title><link>/world/rel?utm_medium=x</link></item>", headers={})
    item = normalize_entry(parsed.entries[0], FEED, parsed, FETCHED)
    assert item.original_url == "https://news.example.org/world/rel?utm_medium=x"
    assert item.url == "https://news.example.org/world/rel"


def test_non_http_link_is_dropped_and_domain_falls_back_to_feed() -> None:
    parsed = _parse("<item><title>T</title><link>javascript:alert(1)</link></item>")
    item = normalize_entry(parsed.entries[0], FEED, parsed, FETCHED)
    assert (item.url, item.original_url) == (None, None)
    assert item.source.domain == "news.example.org"


def test_guid_shared_by_different_links_falls_back_to_links() -> None:
    parsed = _parse(
        "<item><title>A</title><link>https://ex.org/a</link><guid>https://ex.org/feed-guid</guid></item>"
        "<item><title>B</title><link>https://ex.org/b</link><guid>https://ex.org/feed-guid</guid></item>"
    )
    items, _ = normalize_feed(parsed, FEED, FETCHED)
    assert [i.id_basis for i in items] == ["link", "link"]
    assert items[0].item_id != items[1].item_id


def test_prefer_link_switches_basis() -> None:
    parsed = _parse(
        "<item><title>A</title><link>https://ex.org/a</link><guid>tag:ex.org,2026:a</guid></item>"
    )
    (by_guid,), _ = normalize_feed(parsed, FEED, FETCHED)
    (by_link,), _ = normalize_feed(parsed, FEED, FETCHED, prefer_link=True)
    assert (by_guid.id_basis, by_link.id_basis) == ("guid", "link")
    assert by_guid.item_id != by_link.item_id


def test_same_entry_same_id_across_polls() -> None:
    parsed = _parse("<item><title>A</title><link>https://ex.org/a?utm_source=x</link></item>")
    first = normalize_feed(parsed, FEED, FETCHED)[0][0]
    again = normalize_feed(
        _parse("<item><title>A</title><link>https://ex.org/a</link></item>"), FEED, FETCHED
    )
    assert first.item_id == again[0][0].item_id


def test_language_rule_in_entries() -> None:
    parsed = _parse(
        f"<item><title>{RUSSIAN}</title><link>https://ex.org/ru</link></item>"
        "<item><title>Пуск ракеты</title><link>https://ex.org/short</link></item>"
        "<item><title>Kim Jong Un</title><link>https://ex.org/name</link></item>",
        channel="<language>en</language>",
    )
    registry_ko = FEED.model_copy(update={"language": "ko"})
    items, _ = normalize_feed(parsed, registry_ko, FETCHED)
    # Long Russian text in a feed claiming 'en': detection wins. Short text: the document's claim,
    # which comes before the registry's.
    assert [i.language for i in items] == ["ru", "en", "en"]


def test_language_falls_back_to_registry_then_entry_xml_lang_wins() -> None:
    body = (
        b"<feed xmlns='http://www.w3.org/2005/Atom'><title>A</title>"
        b"<entry><title>Kim Jong Un</title><id>tag:ex.org,2026:1</id></entry>"
        b"<entry xml:lang='fr-CA'><title>Kim Jong Un</title><id>tag:ex.org,2026:2</id></entry></feed>"
    )
    parsed = parse_feed(body, {"content-type": "application/atom+xml"}, URL)
    items, _ = normalize_feed(parsed, FEED.model_copy(update={"language": "ko"}), FETCHED)
    assert [i.language for i in items] == ["ko", "fr"]


def test_content_copied_into_the_summary_is_read_as_markup_too() -> None:
    """feedparser gives an entry with only content:encoded a summary copied from it, but no type."""
    body = (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        b"<channel><title>t</title><item><title>A</title><link>https://ex.org/a</link><content:encoded>"
        b'<![CDATA[<p>Story <img src=x onerror="fetch(1)"><script>steal()</script><a href="javascript:x">'
        b"more</a></p>]]></content:encoded></item></channel></rss>"
    )
    parsed = parse_feed(body, {"content-type": "application/rss+xml"}, FEED.url)
    assert "summary_detail" not in parsed.entries[0]
    item = normalize_entry(parsed.entries[0], FEED, parsed, FETCHED)
    assert item.summary == item.content == "Story more"
