"""The feed registry: YAML files under ``deploy/feeds/``, validated against ``schemas.feed.FeedConfig``.

A bad entry never stops the others: ``load_registry`` returns the valid feeds and one clear error per
invalid entry, which the ingester reports in its health table and metrics.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connectors.reasons import describe
from schemas.deadletter import describe_validation
from schemas.feed import FeedConfig


@dataclass(frozen=True)
class RegistryError:
    source: str
    feed_id: str | None  # None: the whole file, or an entry without an id
    message: str

    def __str__(self) -> str:
        feed = f"feed {self.feed_id}: " if self.feed_id else ""
        return f"{self.source}: {feed}{self.message}"


class RegistryFileError(ValueError):
    """A file that cannot be read as a registry: missing, unreadable, not YAML, or without a feeds list."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.problem = problem


def read_entries(path: Path) -> list[Any]:
    """One registry file's entries, not yet validated."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise RegistryFileError(path, exc.strerror or str(exc)) from exc
    except yaml.YAMLError as exc:
        raise RegistryFileError(path, describe(exc)) from exc
    entries = doc.get("feeds", []) if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise RegistryFileError(path, "expected a mapping with a 'feeds' list")
    return entries


def load_registry(paths: Iterable[Path]) -> tuple[list[FeedConfig], list[RegistryError]]:
    feeds: dict[str, FeedConfig] = {}
    errors: list[RegistryError] = []
    for path in sorted(paths):
        try:
            entries = read_entries(path)
        except RegistryFileError as exc:
            errors.append(RegistryError(str(path), None, exc.problem))
            continue
        for n, entry in enumerate(entries):
            where = f"{path}[{n}]"
            feed_id = entry.get("id") if isinstance(entry, dict) else None
            try:
                feed = FeedConfig.model_validate(entry)
            except ValidationError as exc:
                errors.append(RegistryError(where, feed_id, describe_validation(exc, root="entry")))
                continue
            if feed.id in feeds:
                errors.append(RegistryError(where, feed.id, "duplicate feed id"))
                continue
            feeds[feed.id] = feed
    return list(feeds.values()), errors


def registry_files(target: Path) -> list[Path]:
    """A registry is a YAML file or a directory of them; one that is not there is an error, not empty
    (an ingester polling no feed looks alive and fetches nothing)."""
    if not target.exists():
        raise FileNotFoundError(errno.ENOENT, "no such registry file or directory", str(target))
    files = sorted(target.glob("*.yaml")) if target.is_dir() else [target]
    if not files:
        raise FileNotFoundError(errno.ENOENT, "no registry files (*.yaml) in this directory", str(target))
    return files


def _read_entries(path: Path) -> list[Any]:
    """A file to add feeds to may not exist yet."""
    return read_entries(path) if path.exists() else []


def _write_entries(path: Path, entries: list[Any]) -> None:
    path.write_text(yaml.safe_dump({"feeds": entries}, sort_keys=False, allow_unicode=True, width=100))


def _as_entry(feed: FeedConfig) -> dict[str, Any]:
    defaults = FeedConfig(id="x", url="http://x/", name="x")
    data = feed.model_dump(mode="json")
    keep = {"id", "url", "name"}
    return {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in data.items()
        if k in keep or v != getattr(defaults, k)
    }


class FeedExists(ValueError):
    """The registry file already has a feed with this id."""


def add_feed(path: Path, feed: FeedConfig) -> None:
    entries = _read_entries(path)
    if any(isinstance(e, dict) and e.get("id") == feed.id for e in entries):
        raise FeedExists(f"feed {feed.id!r} is already in {path}")
    _write_entries(path, [*entries, _as_entry(feed)])


def remove_feed(path: Path, feed_id: str) -> None:
    entries = _read_entries(path)
    kept = [e for e in entries if not (isinstance(e, dict) and e.get("id") == feed_id)]
    if len(kept) == len(entries):
        raise KeyError(f"feed {feed_id!r} is not in {path}")
    _write_entries(path, kept)
