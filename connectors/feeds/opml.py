"""OPML subscription lists into and out of the feed registry.

An imported file is untrusted input. It is parsed by defusedxml, which refuses entity declarations:
entity expansion ("billion laughs") and external entities (reading local files) end the import with
one line, :class:`OpmlError`. A file that is merely broken, as exports and hand edits often are (an
unescaped ``&`` in a URL, a missing end tag, a truncated download), is read again tag by tag, so the
outlines it still holds are imported; entities are never expanded on that path either.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from connectors.feeds.registry import RegistryError
from schemas.deadletter import describe_validation
from schemas.feed import FeedConfig

_OUTLINE_TAG = re.compile(r"<outline\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")
_REFERENCE = re.compile(r"&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);")
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


class OpmlError(ValueError):
    """Nothing can be imported: the file is hostile, or holds no feed outline."""


@dataclass(frozen=True)
class OpmlImport:
    feeds: list[FeedConfig]
    errors: list[RegistryError]  # outlines whose feed is invalid
    damage: str | None = None  # why the file is not well-formed XML, when its outlines were salvaged


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "feed"


def import_opml(data: bytes, defaults: Mapping[str, Any] | None = None) -> OpmlImport:
    """Feeds from an OPML subscription list (``outline`` elements with ``xmlUrl``, nested or not)."""
    damage = None
    try:
        outlines: list[Mapping[str, str]] = [o.attrib for o in SafeET.fromstring(data).iter("outline")]
    except DefusedXmlException as exc:  # entities: expansion (billion laughs) or external (local files)
        raise OpmlError(f"refused: the file declares XML entities, which OPML needs none of: {exc}") from None
    except ET.ParseError as exc:
        damage = f"not well-formed XML ({exc})"
        outlines = list(_salvaged_outlines(data))
    feeds, errors = _feeds(outlines, defaults or {})
    if not feeds and not errors:
        found = "no feed in the file (no <outline> with an xmlUrl)"
        raise OpmlError(f"{found}: {damage}" if damage else found)
    return OpmlImport(feeds, errors, damage)


def _salvaged_outlines(data: bytes) -> Iterator[dict[str, str]]:
    """Each ``<outline …>`` start tag's attributes, found by pattern; only XML's predefined and
    numeric character references are decoded."""
    for tag in _OUTLINE_TAG.finditer(data.decode("utf-8", errors="replace")):
        yield {
            name: _REFERENCE.sub(_reference, double if double is not None else single)
            for name, double, single in ((m[1], m[2], m[3]) for m in _ATTRIBUTE.finditer(tag[1]))
        }


def _reference(match: re.Match[str]) -> str:
    name = match[1]
    if not name.startswith("#"):
        return _PREDEFINED[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    return chr(code) if 0 < code <= 0x10FFFF else match[0]


def _feeds(
    outlines: Iterable[Mapping[str, str]], defaults: Mapping[str, Any]
) -> tuple[list[FeedConfig], list[RegistryError]]:
    feeds: list[FeedConfig] = []
    errors: list[RegistryError] = []
    seen: set[str] = set()
    for outline in outlines:
        url = outline.get("xmlUrl")
        if not url:
            continue
        name = outline.get("title") or outline.get("text") or urlsplit(url).hostname or url
        feed_id = slug(name)
        while feed_id in seen:
            feed_id = slug(f"{feed_id}-{len(seen)}")
        entry: dict[str, Any] = {**defaults, "id": feed_id, "url": url, "name": name}
        language = (outline.get("language") or "")[:2].lower()
        if re.fullmatch(r"[a-z]{2}", language):
            entry["language"] = language
        try:
            feeds.append(FeedConfig.model_validate(entry))
            seen.add(feed_id)
        except ValidationError as exc:
            errors.append(RegistryError("opml", feed_id, describe_validation(exc, root="entry")))
    return feeds, errors


def export_opml(feeds: Iterable[FeedConfig], title: str = "Watchfloor feeds") -> bytes:
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(opml, "body")
    for feed in feeds:
        ET.SubElement(
            body,
            "outline",
            type="rss",
            text=feed.name,
            title=feed.name,
            xmlUrl=feed.url,
            language=feed.language,
        )
    ET.indent(opml)
    return ET.tostring(opml, encoding="utf-8", xml_declaration=True)
