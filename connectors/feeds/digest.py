"""A fetched body turned into items: the CPU-heavy half of a poll (parse, normalise), kept free of I/O
so the ingester can run it in worker processes while its threads fetch and publish.

The result is what the ingest process needs and no more: new items already serialised as Kafka values,
so it neither unpickles nor re-serialises (nor re-validates) items on its single GIL.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urljoin

from connectors.feeds.normalize import normalize_feed, warm_language_model
from connectors.feeds.parse import FeedParseError, ParsedFeed, parse_feed
from connectors.stack.process import is_alive
from schemas.feed import FeedConfig
from schemas.item import FeedItem


class ItemRecord(NamedTuple):
    """One new item as published: key ``item_id``, value the FeedItem's JSON."""

    item_id: str
    value: bytes


@dataclass(frozen=True)
class Digest:
    items: list[ItemRecord] = field(default_factory=list)  # not in the request's recent ids; no repeats
    links: dict[str, str] = field(default_factory=dict)  # canonical link -> GUID, of every item
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # entry index, reason, entry as JSON
    feed_hint_s: float | None = None
    guid_unstable: bool = False
    rejected: tuple[str, str] | None = None  # (error kind, reason) when the body is unusable
    feed_links: tuple[tuple[str, str], ...] = ()  # the document's (rel, href): WebSub discovery


def _check_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed | tuple[str, str]:
    try:
        parsed = parse_feed(body, headers, url)
    except FeedParseError as exc:
        return "parse", str(exc)
    if not parsed.is_feed:
        return (
            "not_a_feed",
            f"not a feed (content-type {headers.get('content-type', '?')}): {parsed.bozo_reason}",
        )
    if parsed.bozo and not parsed.entries:
        # A bozo feed with usable entries is kept (its reason rides on each item); one without is broken.
        return "malformed", str(parsed.bozo_reason)
    return parsed


@dataclass(frozen=True)
class DigestRequest:
    """One fetched body and what the feed's state knows; picklable, for worker processes."""

    body: bytes
    headers: dict[str, str]
    url: str
    feed: FeedConfig
    fetched: datetime
    guid_unstable: bool = False
    link_guids: dict[str, str] = field(default_factory=dict)  # recent link -> GUID
    recent_ids: frozenset[str] = frozenset()  # items already published: left out of the digest


def digest(request: DigestRequest) -> Digest:
    """Items of one fetched feed. Recent link -> GUID pairs reveal GUIDs that change on every fetch;
    such a feed's items are then identified by link."""
    r = request
    checked = _check_feed(r.body, r.headers, r.url)
    if isinstance(checked, tuple):
        return Digest(rejected=checked)
    items, failures = normalize_feed(checked, r.feed, r.fetched, prefer_link=r.guid_unstable)
    unstable = r.guid_unstable or any(
        i.url and i.guid and _reissued(r.link_guids.get(i.url, i.guid), i.guid, checked.url) for i in items
    )
    if unstable and not r.guid_unstable:
        items, failures = normalize_feed(checked, r.feed, r.fetched, prefer_link=True)
    hints = [h for h in (checked.ttl_s, checked.update_period_s) if h]
    new: dict[str, FeedItem] = {}
    for item in items:
        if item.item_id not in r.recent_ids:
            new.setdefault(item.item_id, item)
    return Digest(
        items=[ItemRecord(i.item_id, i.model_dump_json().encode()) for i in new.values()],
        links={i.url: i.guid for i in items if i.url and i.guid},
        failures=[(n, reason, json.dumps(checked.entries[n], default=str)) for n, reason in failures],
        feed_hint_s=float(max(hints)) if hints else None,
        guid_unstable=unstable,
        feed_links=checked.links,
    )


def _reissued(before: str, now: str, base: str) -> bool:
    """A new GUID for a known link; one that only became relative (or absolute) is the same GUID."""
    return before != now and urljoin(base, before) != urljoin(base, now)


class ProcessDigester:
    """``digest`` in a pool of worker processes: feedparser is pure Python, so threads cannot share
    the CPU it needs. Workers are started by a fork server, never forked from a threaded process.

    All workers start at construction, each loading the language model (about 0.7 s), so the first
    polls of a run are not the slow ones."""

    def __init__(self, processes: int) -> None:
        self._pool = ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
        # The pool spawns a process per submission while none is idle: one call each starts them all.
        for started in [self._pool.submit(os.getpid) for _ in range(processes)]:
            started.result()

    def __call__(self, request: DigestRequest) -> Digest:
        return self._pool.submit(digest, request).result()

    @property
    def pids(self) -> list[int]:
        """The worker processes, for health checks and CPU accounting."""
        return list(self._pool._processes or {})

    def close(self) -> None:
        self._pool.shutdown()


def _start_worker(owner_pid: int) -> None:
    """Worker start-up: load the language model; exit as soon as the owning ingester is gone, even if
    it was SIGKILLed."""

    def watch() -> None:
        while is_alive(owner_pid):
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()
    warm_language_model()
