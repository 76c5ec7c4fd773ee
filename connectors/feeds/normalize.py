"""Turn feedparser entries into FeedItems: plain text, canonical links, stable ids, hashes, language.

The id ladder (``make_item_id``) decides what "the same item" means across polls, so every rung is
deterministic: a stable GUID, else the canonical link, else the normalised title plus publication
time, always salted with the feed id so two feeds never share an item id.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from html import unescape
from html.parser import HTMLParser
from typing import Any, Literal, NamedTuple
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

import idna
from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

from connectors.feeds.parse import ParsedFeed, language_code, one_line
from schemas.feed import FeedConfig
from schemas.item import FeedItem, ItemSource

IdBasis = Literal["guid", "link", "title_published"]

TITLE_FROM_TEXT_CHARS = 120
DETECT_MIN_CHARS = 20  # below this, detect_language does not guess
DETECT_MAX_CHARS = 1000  # enough to decide; bounds the cost per entry
# choose_language: detection overrides the declared language only with this much text and confidence,
# and only when the detector gives the declared language less than DECLARED_KEEP_SCORE.
OVERRIDE_MIN_CHARS = 40
OVERRIDE_MIN_CONFIDENCE = 0.8
DECLARED_KEEP_SCORE = 0.1
EARLIEST_YEAR = 1990
FUTURE_SLACK = timedelta(days=2)

_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "at_medium",
        "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "at_format", "at_link",
        "at_link_id", "at_link_origin", "at_link_type", "at_ptr", "traffic_source", "emc", "cmpid", "ito",
        "ocid", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "ref_src", "ref_url",
        "smid", "s_cid", "wt.mc_id", "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid", "srsltid",
        "__twitter_impression",
    }
)  # fmt: skip
_VOLATILE_PARAMS = frozenset(
    {"jsessionid", "phpsessid", "sessionid", "sid", "cb", "cachebuster", "nocache", "rand", "random", "_"}
)
_GUID_PLACEHOLDERS = frozenset({"null", "none", "undefined", "nan", "guid", "id", "n/a", "permalink"})
_COUNTER_MAX_DIGITS = 5
_GUID_MIN_CHARS = 4

_SKIP_TAGS = frozenset({"script", "style", "noscript", "iframe", "template"})
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section",
        "article", "ul", "ol", "dl", "dt", "dd", "table", "hr", "pre", "figure", "figcaption", "header",
        "footer", "aside", "nav", "main", "address", "details", "summary",
    }
)  # fmt: skip
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s")
_BLOCK_TAG = re.compile(rf"</?(?:{'|'.join(sorted(_BLOCK_TAGS))})\b[^>]*>", re.I)
_SKIPPED_ELEMENT = re.compile(r"<(script|style|noscript|iframe|template)\b.*?(</\1\s*>|$)", re.I | re.S)


class NormalizeError(ValueError):
    """One entry cannot become a FeedItem; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@lru_cache(maxsize=8192)  # a poll asks for the same link several times (ids, dedup, domain)
def canonical_url(url: str | None) -> str | None:
    """The link as an identity, so that spellings of one address give one id (RFC 3986 section 6):
    http(s) only, lower-case scheme and host, an IDN host in punycode, no default port, userinfo,
    fragment or tracking parameters, no dot segments, and one percent-encoding (unreserved characters
    decoded, other escapes in upper case, non-ASCII characters encoded); other parameters keep their
    order and spelling."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
        if host and not host.isascii():
            host = idna.encode(host, uts46=True).decode("ascii")
    except (ValueError, idna.IDNAError):
        return None
    if scheme not in ("http", "https") or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc = f"{netloc}:{port}"
    path = _without_dot_segments(_one_encoding(parts.path or "/"))
    query = "&".join(
        p for p in _one_encoding(parts.query).split("&") if p and not _is_tracking(p.split("=", 1)[0])
    )
    return urlunsplit((scheme, netloc, path, query, ""))


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Everything printable in ASCII but what RFC 3986 forbids in a URL: existing escapes stay as they are.
_KEEP_AS_TYPED = "!#$%&'()*+,/:;=?@[]~"


def _one_encoding(component: str) -> str:
    """``%7e`` and ``~``, ``%c3%a9``, ``%C3%A9`` and ``é``: each pair is one address, spelt one way."""

    def normal(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _ESCAPE.sub(normal, quote(component, safe=_KEEP_AS_TYPED))


def _without_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 for an absolute path: ``/./a/../b/`` is ``/b/``; never above the root."""
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    if segments and segments[-1] in (".", ".."):
        kept.append("")
    return "/" + "/".join(kept)


def _is_tracking(name: str) -> bool:
    key = unquote_plus(name).strip().lower()
    return key.startswith("utm_") or key in _TRACKING_PARAMS


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(_SPACE.sub(" ", data))

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA[") and not self._skip_depth:
            self.parts.append(data[len("CDATA[") :])


def html_to_text(html: str) -> str:
    """Readable plain text: one line per block element, whitespace collapsed, no blank lines.

    Line breaks in the markup are just spaces, as in a browser; only block elements break lines.

    Never raises: if the stdlib parser gives up on broken markup, tags are stripped by pattern instead.
    """
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        text = "".join(extractor.parts)
    except Exception:  # html.parser raises AssertionError on some bogus declarations
        flat = _SKIPPED_ELEMENT.sub(" ", _SPACE.sub(" ", html))
        text = unescape(_TAG.sub("", _BLOCK_TAG.sub("\n", flat)))
    return _tidy_lines(text)


def _tidy_lines(text: str) -> str:
    return "\n".join(line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def looks_stable_guid(guid: str | None, link: str | None) -> bool:
    """Whether a GUID can identify the item across polls.

    Rejected: empty, shorter than 4 characters, placeholders ('null', 'undefined', ...), small numbers
    (position counters, up to 5 digits), URLs carrying session ids or cache-busters, and a bare site
    root used as the GUID of an item whose link points elsewhere.
    """
    value = (guid or "").strip()
    if len(value) < _GUID_MIN_CHARS or value.casefold() in _GUID_PLACEHOLDERS:
        return False
    if value.isdigit() and len(value) <= _COUNTER_MAX_DIGITS:
        return False
    as_url = canonical_url(value)
    if as_url is None:
        return True
    if any(_is_volatile(p.split("=", 1)[0]) for p in urlsplit(value).query.split("&") if p):
        return False
    parts = urlsplit(as_url)
    site_root = parts.path == "/" and not parts.query
    return not site_root or canonical_url(link) in (None, as_url)


def _is_volatile(name: str) -> bool:
    return unquote_plus(name).strip().lower() in _VOLATILE_PARAMS


def make_item_id(
    feed_id: str,
    *,
    guid: str | None,
    link: str | None,
    title: str,
    published: datetime | None,
    prefer_link: bool = False,
) -> tuple[str, IdBasis]:
    """(item_id, basis): sha256 of ``feed_id``, basis and value, hex[:32].

    Rungs: a stable GUID (skipped when ``prefer_link``, for feeds known to reissue GUIDs), else the
    canonical link, else a stable GUID after all, else casefolded whitespace-collapsed title plus
    the UTC ISO publication time ('' when unknown).
    """
    stable_guid = (guid or "").strip() if looks_stable_guid(guid, link) else None
    link_value = canonical_url(link)
    basis: IdBasis
    if stable_guid and not prefer_link:
        basis, value = "guid", stable_guid
    elif link_value:
        basis, value = "link", link_value
    elif stable_guid:
        basis, value = "guid", stable_guid
    else:
        when = published.astimezone(UTC).isoformat() if published else ""
        basis, value = "title_published", f"{_one_line(title).casefold()}\x00{when}"
    digest = hashlib.sha256(f"{feed_id}\x00{basis}\x00{value}".encode()).hexdigest()[:32]
    return digest, basis


_ASCII_PUNCTUATION = {c: " " for c in range(128) if unicodedata.category(chr(c)).startswith("P")}


def _hash_form(value: str) -> str:
    if value.isascii():  # NFKC leaves ASCII alone and casefold is lower: one C-level pass instead
        return _one_line(value.lower().translate(_ASCII_PUNCTUATION))
    folded = unicodedata.normalize("NFKC", value).casefold()
    return _one_line("".join(" " if unicodedata.category(c).startswith("P") else c for c in folded))


def content_hash(title: str, text: str) -> str:
    """sha256 hex of NFKC-normalised, casefolded title + "\\n" + text with punctuation dropped and
    whitespace collapsed, so copies differing only in quotes, dashes, case or spacing hash equal."""
    return hashlib.sha256(f"{_hash_form(title)}\n{_hash_form(text)}".encode()).hexdigest()


@cache
def _identifier() -> LanguageIdentifier:
    """Loaded on first use (about 0.7 s) and shared: the model ships inside the py3langid wheel."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm_language_model() -> None:
    """Load the model now, not on the first entry that needs it."""
    _languages()


class _Languages(NamedTuple):
    """The model's ISO 639-1 labels (it also knows three-letter ones such as 'zxx') and their columns."""

    labels: list[str]
    columns: list[int]  # each label's first column: where py3langid folds an alias's score
    position: dict[str, int]  # label -> its place in ``labels``


@cache
def _languages() -> _Languages:
    first: dict[str, int] = {}
    for column, lang in enumerate(_identifier().nb_classes):
        if language_code(lang) == lang:
            first.setdefault(lang, column)
    labels = list(first)
    return _Languages(labels, list(first.values()), {k: n for n, k in enumerate(labels)})


def _language_scores(text: str) -> tuple[list[str], Any]:
    """Probabilities of the ISO 639-1 labels (a numpy vector summing to at most 1), in label order.

    The same numbers ``rank`` gives, without sorting every label of the model for each entry: that
    sort was most of the cost of language detection. ``_decide`` is private to py3langid, which is
    pinned; the unit tests pin its results.
    """
    languages = _languages()
    return languages.labels, _identifier()._decide(text[:DETECT_MAX_CHARS])[languages.columns]


def detect_language(text: str) -> str | None:
    """Most likely ISO 639-1 language of ``text``; None below DETECT_MIN_CHARS characters."""
    if len(text.strip()) < DETECT_MIN_CHARS:
        return None
    labels, scores = _language_scores(text)
    return labels[int(scores.argmax())]


def choose_language(text: str, declared: str) -> str:
    """The declared language unless the text clearly says otherwise.

    Feeds often declare a template default ('en-us' on a Russian service), but detection on a headline
    alone is unreliable. So detection wins only on at least OVERRIDE_MIN_CHARS characters, with at
    least OVERRIDE_MIN_CONFIDENCE, and when it gives the declared language under DECLARED_KEEP_SCORE
    (close relatives such as 'hr'/'bs' or 'no'/'da' keep the declaration).
    """
    if len(text.strip()) < OVERRIDE_MIN_CHARS:
        return declared
    labels, scores = _language_scores(text)
    best = int(scores.argmax())  # the first of equals, as a stable sort would put it
    position = _languages().position.get(declared)
    declared_score = 0.0 if position is None else float(scores[position])
    if float(scores[best]) >= OVERRIDE_MIN_CONFIDENCE and declared_score < DECLARED_KEEP_SCORE:
        return labels[best]
    return declared


def _detail_text(value: Any, detail: Any) -> str:
    """feedparser's value as plain text: markup removed only when feedparser says it is (X)HTML."""
    if not isinstance(value, str):
        return ""
    kind = detail.get("type", "") if isinstance(detail, dict) else ""
    return html_to_text(value) if "html" in str(kind) else _tidy_lines(value)


def _declared_language(entry: Any, parsed: ParsedFeed, feed: FeedConfig) -> str:
    """xml:lang (or Content-Language) on the entry's text, else the document's, else the registry's."""
    details = [entry.get("title_detail"), entry.get("summary_detail"), *(entry.get("content") or [])]
    for detail in details:
        code = language_code(detail.get("language")) if isinstance(detail, dict) else None
        if code:
            return code
    return parsed.language or feed.language


def _utc(struct: Any, fetched: datetime) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime; None when missing or implausible."""
    if not isinstance(struct, time.struct_time):
        return None
    try:
        when = datetime(*struct[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    return when if when.year >= EARLIEST_YEAR and when <= fetched + FUTURE_SLACK else None


def _names(values: Any, key: str, fallback: Any = None) -> tuple[str, ...]:
    """Distinct non-empty ``key`` values of a list of feedparser dicts, in order."""
    found = [_one_line(str(v.get(key) or "")) for v in values or [] if isinstance(v, dict)]
    if isinstance(fallback, str):
        found.append(_one_line(fallback))
    return tuple(dict.fromkeys(name for name in found if name))


@lru_cache(maxsize=8192)
def _absolute_http(link: str, base: str) -> str | None:
    absolute = urljoin(base, link)
    return absolute if canonical_url(absolute) else None


def _http_link(link: Any, base: str) -> str | None:
    """The entry link made absolute against the document URL, if it is http(s)."""
    if not isinstance(link, str) or not link.strip():
        return None
    return _absolute_http(link.strip(), base)


def _require_aware(fetched: datetime) -> None:
    if fetched.tzinfo is None or fetched.utcoffset() is None:
        raise ValueError("fetched must be a timezone-aware datetime")


def normalize_entry(
    entry: Any, feed: FeedConfig, parsed: ParsedFeed, fetched: datetime, *, prefer_link: bool = False
) -> FeedItem:
    """One feedparser entry as a FeedItem; raises NormalizeError for an entry with nothing to show."""
    _require_aware(fetched)
    # A plain dict: FeedParserDict.get runs its alias logic on every lookup, and only canonical keys
    # are read here. (dict.get also keeps 'updated_parsed' from falling back to 'published_parsed'.)
    entry = dict(entry) if isinstance(entry, dict) else {}
    contents_detail = [c for c in entry.get("content") or [] if isinstance(c, dict)]
    # An entry with content but no summary gets a copy of the content as its summary, without the
    # content's type: read it as the content it is, or its markup would be kept as text.
    summary_detail = entry.get("summary_detail") or (contents_detail[0] if contents_detail else None)
    summary = _detail_text(entry.get("summary"), summary_detail)
    contents = [_detail_text(c.get("value"), c) for c in contents_detail]
    content = max(contents, key=len, default="")
    link = _http_link(entry.get("link"), parsed.url)
    title = _one_line(_detail_text(entry.get("title"), entry.get("title_detail")))
    if not title:
        title = _one_line(summary or content)[:TITLE_FROM_TEXT_CHARS].rstrip()
    if not title and not link:
        raise NormalizeError("entry has no title, summary, content or link")
    guid = _one_line(str(entry.get("id") or "")) or None
    published = _utc(entry.get("published_parsed"), fetched)
    item_id, basis = make_item_id(
        feed.id, guid=guid, link=link, title=title, published=published, prefer_link=prefer_link
    )
    url = canonical_url(link)
    body = content or summary
    return FeedItem(
        item_id=item_id,
        id_basis=basis,
        feed_id=feed.id,
        url=url,
        original_url=link,
        guid=guid,
        title=title,
        summary=summary,
        content=content,
        authors=_names(entry.get("authors"), "name", fallback=entry.get("author")),
        tags=_names(entry.get("tags"), "term"),
        language=choose_language(f"{title}\n{body}", _declared_language(entry, parsed, feed)),
        published=published,
        updated=_utc(entry.get("updated_parsed"), fetched),
        fetched=fetched,
        source=ItemSource(
            feed_id=feed.id,
            name=feed.name,
            tier=feed.tier,
            country=feed.country,
            domain=urlsplit(url or feed.url).hostname or "",
        ),
        content_hash=content_hash(title, body),
        feed_bozo=parsed.bozo_reason,
    )


def normalize_feed(
    parsed: ParsedFeed, feed: FeedConfig, fetched: datetime, prefer_link: bool = False
) -> tuple[list[FeedItem], list[tuple[int, str]]]:
    """Every entry as a FeedItem, plus (entry index, reason) for each entry that failed.

    A GUID shared by entries with different links is a template constant, not an id, so those entries
    fall through to their links. One bad entry never costs the others: any error is recorded.
    """
    _require_aware(fetched)
    guid_links: dict[str, set[str | None]] = {}
    for entry in parsed.entries:
        guid = _one_line(str(dict.get(entry, "id") or ""))
        guid_links.setdefault(guid, set()).add(canonical_url(_http_link(dict.get(entry, "link"), parsed.url)))
    shared = {guid for guid, links in guid_links.items() if guid and len(links) > 1}
    items: list[FeedItem] = []
    failures: list[tuple[int, str]] = []
    for index, entry in enumerate(parsed.entries):
        reuse = _one_line(str(dict.get(entry, "id") or "")) in shared
        try:
            items.append(normalize_entry(entry, feed, parsed, fetched, prefer_link=prefer_link or reuse))
        except NormalizeError as exc:
            failures.append((index, exc.reason))
        except Exception as exc:  # feeds are untrusted input: record, never stop the batch
            failures.append((index, one_line(exc)))
    return items, failures
