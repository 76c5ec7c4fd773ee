"""OPML import and export: round trips, broken files salvaged, hostile files refused in one line."""

import pytest

from connectors.feeds.opml import OpmlError, export_opml, import_opml
from schemas.feed import FeedConfig


def test_opml_export_then_import_keeps_urls_names_and_languages() -> None:
    feeds = [
        FeedConfig(id="a", url="https://a.example/rss?x=1&y=2", name="Alpha & Co", language="fr"),
        FeedConfig(id="b", url="http://b.example/atom", name="Beta"),
    ]
    imported = import_opml(export_opml(feeds))
    assert (imported.errors, imported.damage) == ([], None)
    assert [(f.url, f.name, f.language) for f in imported.feeds] == [
        (f.url, f.name, f.language) for f in feeds
    ]


def test_opml_import_rejects_bad_urls_per_outline() -> None:
    opml = b"""<?xml version="1.0"?><opml version="2.0"><body>
      <outline text="ok" xmlUrl="https://ok.example/rss"/>
      <outline text="bad" xmlUrl="javascript:alert(1)"/>
      <outline text="folder"><outline text="nested" xmlUrl="https://n.example/rss"/></outline>
    </body></opml>"""
    result = import_opml(opml)
    assert [f.url for f in result.feeds] == ["https://ok.example/rss", "https://n.example/rss"]
    assert [e.feed_id for e in result.errors] == ["bad"]


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY l0 "ha">'
    + b"".join(b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10) for n in range(1, 10))
    + b']><opml version="2.0"><body><outline text="&l9;" xmlUrl="https://a.example/rss"/></body></opml>'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    b'<opml version="2.0"><body><outline text="&x;" xmlUrl="https://a.example/rss"/></body></opml>'
)


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_hostile_files_are_refused_in_one_line(data: bytes) -> None:
    with pytest.raises(OpmlError) as refused:
        import_opml(data)
    message = str(refused.value)
    assert message.startswith("refused: the file declares XML entities")
    assert "\n" not in message
    assert "haha" not in message


def test_a_broken_file_imports_the_outlines_it_still_holds() -> None:
    broken = b"""<?xml version="1.0"?><opml version="2.0"><body>
      <outline text="Unescaped" xmlUrl="https://a.example/rss?x=1&y=2"/>
      <outline text="Folder"><outline title="Caf&#233; &amp; Co" xmlUrl='https://b.example/a' language="fr">
      <outline text="Truncated" xmlUrl="https://c.example/rss"/>
      <outline text="cut off" xmlUrl="https://d.exa"""
    result = import_opml(broken)
    assert [(f.name, f.url, f.language) for f in result.feeds] == [
        ("Unescaped", "https://a.example/rss?x=1&y=2", "en"),
        ("Caf\u00e9 & Co", "https://b.example/a", "fr"),
        ("Truncated", "https://c.example/rss", "en"),
    ]
    assert result.damage is not None and result.damage.startswith("not well-formed XML (")


def test_a_broken_file_never_expands_entities() -> None:
    # Broken before the declaration, so the strict parser never sees it: the salvage must not expand it.
    broken = b'<!DOCTYPE opml [<!BOGUS><!ENTITY e "expanded">]><opml><outline text="&e;" xmlUrl="https://a.example/">'
    result = import_opml(broken)
    assert [f.name for f in result.feeds] == ["&e;"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no feed in the file (no <outline> with an xmlUrl): not well-formed XML (no element found"),
        (b"<html><body>hello</body></html>", "no feed in the file (no <outline> with an xmlUrl)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "no feed in the file (no <outline> with an xmlUrl): not well-formed"),
    ],
    ids=["empty", "not-opml", "binary"],
)
def test_a_file_without_feeds_is_an_error(data: bytes, reason: str) -> None:
    with pytest.raises(OpmlError, match="^" + reason.replace("(", r"\(").replace(")", r"\)")):
        import_opml(data)
