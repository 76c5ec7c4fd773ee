"""feedparser's own test feeds through Watchfloor's full fetch -> parse -> normalise path, over HTTP.

Each file is served by a local HTTP server with its ``Header:`` lines as response headers and fetched
by our Fetcher. Every file must go through without an exception escaping (entries may be rejected,
and are counted), and for ``wellformed/`` our ParsedFeed must report the bozo flag and entry count that
plain feedparser reports for the file's raw bytes with the same response headers.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from connectors.feeds.http import Fetcher
from connectors.feeds.normalize import normalize_feed
from connectors.feeds.parse import FeedParseError, parse_feed
from schemas.feed import FeedConfig
from tests.support.feedserver import LOOPBACK, FeedServer, Route


def _corpus_dir() -> Path:
    shared = os.environ.get("WATCHFLOOR_SHARED_DIR")
    root = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    return root / "corpora" / "feedparser-tests"


CORPUS = _corpus_dir()
if not CORPUS.is_dir():
    pytest.skip(f"feedparser test corpus not found at {CORPUS}", allow_module_level=True)

SUBDIRS = ("wellformed", "illformed", "entities", "encoding", "json")
FEED = FeedConfig(id="corpus", url="http://127.0.0.1/", name="feedparser corpus", language="en")
FETCHED = datetime(2026, 1, 1, tzinfo=UTC)

_HEADER = re.compile(rb"^\s*Header:\s*([^:\s]+):[ \t]*(.*?)\s*$", re.M)
_COMMENT = re.compile(rb"<!--(.*?)-->", re.S)

Fetched = tuple[bytes, Mapping[str, str], str]


def load(path: Path) -> tuple[bytes, dict[str, str]]:
    """The file's bytes and its simulated response headers, names lower-cased as an HTTP client gives them.

    Headers come from ``Header: Name: value`` lines in the first XML comment; NUL bytes are dropped
    before looking so that UTF-16/32 files are read too.
    """
    body = path.read_bytes()
    comment = _COMMENT.search(body.replace(b"\x00", b""))
    headers: dict[str, str] = {}
    for name, value in _HEADER.findall(comment.group(1) if comment else b""):
        headers[name.decode("ascii").lower()] = value.decode("latin-1")
    return body, headers


@dataclass
class DirReport:
    files: int = 0
    entries: int = 0
    items: int = 0
    not_feeds: int = 0
    bozo: int = 0
    parse_errors: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)

    def summary(self, name: str, seconds: float) -> str:
        reasons = "; ".join(f"{n} x {reason}" for reason, n in self.rejected.most_common()) or "none"
        rejected = sum(self.rejected.values())
        return (
            f"{name}: {self.files} files, {self.entries} entries, {self.items} items, {rejected} rejected "
            f"({reasons}), {self.bozo} bozo, {self.not_feeds} not feeds, "
            f"{len(self.parse_errors)} FeedParseError, {seconds:.2f} s"
        )


def _reference(body: bytes, headers: Mapping[str, str]) -> tuple[bool, int]:
    """What plain feedparser says about the same bytes and headers."""
    result = feedparser.parse(io.BytesIO(body), response_headers=dict(headers))
    return bool(result.get("bozo")), len(result.get("entries", []))


def check_file(path: Path, fetch: Callable[[Path], Fetched], report: DirReport, *, compare: bool) -> None:
    """Fetch, parse and normalise one file, recording everything worth knowing in ``report``."""
    name = str(path.relative_to(CORPUS))
    body, headers, url = fetch(path)
    report.files += 1
    try:
        parsed = parse_feed(body, headers, url)
    except FeedParseError as exc:
        report.parse_errors.append(f"{name}: {exc.reason}")
        return
    try:
        items, failures = normalize_feed(parsed, FEED, FETCHED)
    except Exception as exc:
        report.crashes.append(f"{name}: {type(exc).__name__}: {exc}")
        return
    report.entries += len(parsed.entries)
    report.items += len(items)
    report.bozo += parsed.bozo
    report.not_feeds += not parsed.is_feed
    report.rejected.update(reason for _, reason in failures)
    if compare:
        ours = (parsed.bozo, len(parsed.entries))
        theirs = _reference(load(path)[0], headers)
        if ours != theirs:
            report.mismatches.append(f"{name}: ours (bozo, entries) = {ours}, feedparser = {theirs}")


@pytest.fixture(scope="module")
def over_http() -> Iterator[Callable[[Path], Fetched]]:
    """Serve each file with its headers and fetch it back with the production Fetcher."""
    with FeedServer() as server, Fetcher(replace(LOOPBACK, per_host_concurrency=1)) as fetcher:

        def fetch(path: Path) -> Fetched:
            body, headers = load(path)
            # A feed host names a type; files whose Header: lines do not are served as XML.
            headers = headers if "content-type" in headers else {**headers, "content-type": "application/xml"}
            route = "/" + str(path.relative_to(CORPUS))
            server.route(route, Route(body=body, headers=headers))
            result = fetcher.fetch(server.url(route))
            return result.body, result.headers, result.final_url

        yield fetch


@pytest.mark.parametrize("subdir", SUBDIRS)
def test_corpus_directory(subdir: str, over_http: Callable[[Path], Fetched]) -> None:
    files = sorted(p for p in (CORPUS / subdir).rglob("*") if p.is_file())
    assert files, f"no files under {CORPUS / subdir}"
    report = DirReport()
    started = time.perf_counter()
    for path in files:
        check_file(path, over_http, report, compare=subdir == "wellformed")
    print(report.summary(subdir, time.perf_counter() - started))
    problems = report.crashes + report.parse_errors + report.mismatches
    assert not problems, f"{len(problems)} problems in {subdir}:\n" + "\n".join(problems)
