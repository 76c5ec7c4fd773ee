from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from connectors.feeds.normalize import normalize_entry
from connectors.feeds.parse import BOZO_REASON_CHARS, FeedParseError, ParsedFeed, language_code, parse_feed
from schemas.feed import FeedConfig

URL = "https://news.example.org/feeds/world.xml"
RSS = {"Content-Type": "application/rss+xml"}
URL_FIRST = "https://news.example.org/world/first"
FEED = FeedConfig(id="world", url=URL, name="World desk")
FETCHED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

SIMPLE_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
  <channel>
    <title>  Example   World Desk </title>
    <link>https://news.example.org/</link>
    <language>en-GB</language>
    <ttl>15</ttl>
    <sy:updatePeriod>daily</sy:updatePeriod>
    <sy:updateFrequency>4</sy:updateFrequency>
    <item><title>First</title><link>/world/first</link><guid>tag:news.example.org,2026:1</guid></item>
    <item><title>Second</title><link>https://news.example.org/world/second</link></item>
  </channel>
</rss>"""


def test_simple_rss() -> None:
    parsed = parse_feed(SIMPLE_RSS, RSS, URL)
    assert isinstance(parsed, ParsedFeed)
    assert parsed.is_feed
    assert not parsed.bozo
    assert parsed.bozo_reason is None
    assert parsed.version == "rss20"
    assert parsed.title == "Example World Desk"
    assert parsed.language == "en"
    assert len(parsed.entries) == 2
    assert parsed.ttl_s == 15 * 60
    assert parsed.update_period_s == 86400 // 4
    assert parsed.url == URL


@pytest.mark.parametrize(
    ("headers", "link"),
    [
        (RSS, URL_FIRST),
        (
            {"content-type": "application/xml", "Content-Location": "//mirror.example.net/f/"},
            "https://mirror.example.net/world/first",
        ),
        ({"content-type": "application/xml", "content-location": "javascript:alert(1)"}, URL_FIRST),
        ({}, URL_FIRST),
    ],
)
def test_relative_links_resolve_against_the_document_base(headers: dict[str, str], link: str) -> None:
    parsed = parse_feed(SIMPLE_RSS, headers, URL)
    assert parsed.entries[0]["link"] == "/world/first"  # feedparser is given no base (module docstring)
    assert normalize_entry(parsed.entries[0], FEED, parsed, FETCHED).original_url == link
    assert not parsed.bozo


def test_relative_xml_base_resolves_against_content_location() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="/blog/"><title>t</title>'
        b'<entry><id>tag:ex,2026:1</id><title>A</title><link href="post-1"/></entry></feed>'
    )
    headers = {"content-type": "application/atom+xml", "content-location": "https://mirror.example.net/f/x"}
    parsed = parse_feed(body, headers, URL)
    item = normalize_entry(parsed.entries[0], FEED, parsed, FETCHED)
    assert item.original_url == "https://mirror.example.net/blog/post-1"


def test_relative_permalink_guid_is_kept_as_published() -> None:
    """A GUID is an identity, not a location: resolving it would change every item id when a feed moves."""
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>A</title><guid>/story/1</guid></item></channel></rss>"
    )
    parsed = parse_feed(body, RSS, URL)
    item = normalize_entry(parsed.entries[0], FEED, parsed, FETCHED)
    assert (item.guid, item.original_url) == ("/story/1", "https://news.example.org/story/1")


def test_no_headers_keeps_feedparser_defaults() -> None:
    """Injecting a header into an empty set would flip feedparser to HTTP rules (bozo, ISO-8859-1)."""
    body = "<rss version='2.0'><channel><title>Café</title></channel></rss>".encode()
    parsed = parse_feed(body, {}, URL)
    assert not parsed.bozo
    assert parsed.title == "Café"


def test_windows_1251_charset_only_in_content_type() -> None:
    body = (
        '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Сводка</title>'
        "<item><title>Пуск ракеты в Японском море</title><link>https://ex.ru/a/1</link></item>"
        "</channel></rss>"
    ).encode("windows-1251")
    parsed = parse_feed(body, {"Content-Type": "application/rss+xml; charset=windows-1251"}, URL)
    assert not parsed.bozo
    assert parsed.title == "Сводка"
    assert parsed.entries[0]["title"] == "Пуск ракеты в Японском море"
    # Without the header the same bytes are (wrongly) read as windows-1252: the header is what matters.
    assert parse_feed(body, {}, URL).entries[0]["title"] != "Пуск ракеты в Японском море"


def test_iso_8859_1_charset_only_in_content_type() -> None:
    body = "<rss version='2.0'><channel><title>Économie française</title></channel></rss>".encode("latin-1")
    parsed = parse_feed(body, {"content-type": "text/xml; charset=ISO-8859-1"}, URL)
    assert parsed.title == "Économie française"
    assert not parsed.bozo


def test_html_page_is_not_a_feed() -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Home</title></head><body><h1>Welcome</h1><p>Hi</p></body></html>"
    )
    parsed = parse_feed(page, {"content-type": "text/html; charset=utf-8"}, URL)
    assert not parsed.is_feed
    assert parsed.bozo
    assert parsed.bozo_reason is not None
    assert parsed.bozo_reason.startswith("NonXMLContentType: text/html")


@pytest.mark.parametrize("body", [b"", b"   \n", b"\x00\xff\xfe\x89PNG binary", b"<rss>" * 4000])
def test_junk_does_not_crash(body: bytes) -> None:
    parsed = parse_feed(body, {"content-type": "application/xml"}, URL)
    assert parsed.entries == []
    assert "\n" not in (parsed.bozo_reason or "")


def test_bozo_feed_keeps_usable_entries() -> None:
    body = b"<rss version='2.0'><channel><title>T</title><item><title>A&nbsp;B</title></item></channel></rss>"
    parsed = parse_feed(body, RSS, URL)
    assert parsed.bozo
    assert parsed.bozo_reason is not None
    assert parsed.bozo_reason.startswith("SAXParseException:")
    assert len(parsed.entries) == 1
    assert parsed.is_feed


def _secret_file(tmp_path: Path) -> tuple[Path, str]:
    secret = "WATCHFLOOR-SECRET-7f3a"
    path = tmp_path / "secret.txt"
    path.write_text(secret)
    return path, secret


@pytest.mark.parametrize("newline", ["\n", ""])
def test_external_entity_is_not_read(tmp_path: Path, newline: str) -> None:
    path, secret = _secret_file(tmp_path)
    body = (
        f'<?xml version="1.0"?>{newline}<!DOCTYPE rss [{newline}'
        f'<!ENTITY xxe SYSTEM "{path.as_uri()}">{newline}]>{newline}'
        "<rss version='2.0'><channel><title>T &xxe;</title>"
        "<item><title>Leak &xxe;</title><description>&xxe;</description></item></channel></rss>"
    ).encode()
    for headers in ({}, RSS):
        parsed = parse_feed(body, headers, URL)
        assert secret not in repr(parsed)
        assert len(parsed.entries) == 1


def test_external_dtd_and_parameter_entities_are_not_loaded(tmp_path: Path) -> None:
    path, secret = _secret_file(tmp_path)
    dtd = tmp_path / "ext.dtd"
    dtd.write_text(f'<!ENTITY % inner SYSTEM "{path.as_uri()}"><!ENTITY loaded "DTD-LOADED">')
    bodies = [
        f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "{dtd.as_uri()}">\n'
        "<rss version='2.0'><channel><item><title>x &loaded;</title></item></channel></rss>",
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]>'
        "<rss version='2.0'><channel><item><title>x &loaded;</title></item></channel></rss>",
    ]
    for body in bodies:
        parsed = parse_feed(body.encode(), RSS, URL)
        assert secret not in repr(parsed)
        assert "DTD-LOADED" not in repr(parsed)


def test_billion_laughs_is_not_expanded() -> None:
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    for separator in ("\n", ""):
        body = (
            f'<?xml version="1.0"?>\n<!DOCTYPE rss [{separator}{separator.join(levels)}{separator}]>\n'
            "<rss version='2.0'><channel><item><title>a &lol9; b</title></item></channel></rss>"
        ).encode()
        parsed = parse_feed(body, RSS, URL)
        assert len(parsed.entries) == 1
        assert len(parsed.entries[0].get("title", "")) < 100


def test_feedparser_exception_becomes_feed_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nwith a second line")

    monkeypatch.setattr(feedparser, "parse", explode)
    with pytest.raises(FeedParseError) as caught:
        parse_feed(SIMPLE_RSS, RSS, URL)
    assert caught.value.reason == "feedparser failed: RuntimeError: boom with a second line"


def test_bozo_reason_is_one_short_line() -> None:
    body = b"<rss version='2.0'><channel><title>" + b"&bogus;" * 200 + b"</title></channel></rss>"
    parsed = parse_feed(body, RSS, URL)
    assert parsed.bozo_reason is not None
    assert len(parsed.bozo_reason) <= BOZO_REASON_CHARS
    assert "\n" not in parsed.bozo_reason


@pytest.mark.parametrize(
    ("period", "frequency", "expected"),
    [
        ("hourly", "1", 3600),
        ("hourly", "2", 1800),
        ("weekly", None, 604800),
        (None, "2", 43200),
        ("x", "1", None),
    ],
)
def test_update_period(period: str | None, frequency: str | None, expected: int | None) -> None:
    sy = ""
    if period:
        sy += f"<sy:updatePeriod>{period}</sy:updatePeriod>"
    if frequency:
        sy += f"<sy:updateFrequency>{frequency}</sy:updateFrequency>"
    body = (
        "<rss version='2.0' xmlns:sy='http://purl.org/rss/1.0/modules/syndication/'><channel>"
        f"<title>T</title>{sy}<ttl>abc</ttl></channel></rss>"
    ).encode()
    parsed = parse_feed(body, RSS, URL)
    assert parsed.update_period_s == expected
    assert parsed.ttl_s is None


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en-us", "en"), ("pt_BR", "pt"), ("RU", "ru"), ("english", None), ("", None), (None, None)],
)
def test_language_code(tag: str | None, code: str | None) -> None:
    assert language_code(tag) == code
