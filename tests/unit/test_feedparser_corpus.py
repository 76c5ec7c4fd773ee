"""feedparser's own test feeds through Watchfloor's parse -> normalise path.

Every file must go through without an exception escaping (entries may be rejected, and are counted),
and for ``wellformed/`` our ParsedFeed must report the bozo flag and entry count that feedparser itself
reports for the same bytes and headers. ``load`` is the transport; swap it for an HTTP round trip
through a local server and the comparison stays as it is.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from connectors.feeds.normalize import normalize_feed
from connectors.feeds.parse import FeedParseError, parse_feed
from schemas.feed import FeedConfig


def _corpus_dir() -> Path:
    shared = os.environ.get("WATCHFLOOR_SHARED_DIR")
    root = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    return root / "corpora" / "feedparser-tests"


CORPUS = _corpus_dir()
if not CORPUS.is_dir():
    pytest.skip(f"feedparser test corpus not found at {CORPUS}", allow_module_level=True)

SUBDIRS = ("wellformed", "illformed", "entities", "encoding", "json")
BASE_URL = "http://127.0.0.1:8097/"
FEED = FeedConfig(id="corpus", url=BASE_URL, name="feedparser corpus", language="en")
FETCHED = datetime(2026, 1, 1, tzinfo=UTC)

_HEADER = re.compile(rb"^\s*Header:\s*([^:\s]+):[ \t]*(.*?)\s*$", re.M)
_COMMENT = re.compile(rb"<!--(.*?)-->", re.S)

Transport = Callable[[Path], tuple[bytes, dict[str, str]]]


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


def check_file(path: Path, transport: Transport, report: DirReport, *, compare: bool) -> None:
    """Parse and normalise one file, recording everything worth knowing in ``report``."""
    name = str(path.relative_to(CORPUS))
    body, headers = transport(path)
    report.files += 1
    try:
        parsed = parse_feed(body, headers, BASE_URL)
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
        theirs = _reference(body, headers)
        if ours != theirs:
            report.mismatches.append(f"{name}: ours (bozo, entries) = {ours}, feedparser = {theirs}")


@pytest.mark.parametrize("subdir", SUBDIRS)
def test_corpus_directory(subdir: str) -> None:
    files = sorted(p for p in (CORPUS / subdir).rglob("*") if p.is_file())
    assert files, f"no files under {CORPUS / subdir}"
    report = DirReport()
    started = time.perf_counter()
    for path in files:
        check_file(path, load, report, compare=subdir == "wellformed")
    print(report.summary(subdir, time.perf_counter() - started))
    problems = report.crashes + report.parse_errors + report.mismatches
    assert not problems, f"{len(problems)} problems in {subdir}:\n" + "\n".join(problems)
