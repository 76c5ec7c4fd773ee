"""The feed registry: YAML files under ``deploy/feeds/``, validated against ``schemas.feed.FeedConfig``.

A bad entry never stops the others: ``load_registry`` returns the valid feeds and one clear error per
invalid entry, which the ingester reports in its health table and metrics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from schemas.deadletter import describe_validation
from schemas.feed import FeedConfig


@dataclass(frozen=True)
class RegistryError:
    source: str
    feed_id: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}: feed {self.feed_id or '?'}: {self.message}"


def load_registry(paths: Iterable[Path]) -> tuple[list[FeedConfig], list[RegistryError]]:
    feeds: dict[str, FeedConfig] = {}
    errors: list[RegistryError] = []
    for path in sorted(paths):
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            errors.append(RegistryError(str(path), None, f"unreadable: {exc}"))
            continue
        entries = doc.get("feeds", []) if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            errors.append(RegistryError(str(path), None, "expected a mapping with a 'feeds' list"))
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
    """A registry is a YAML file or a directory of them."""
    return sorted(target.glob("*.yaml")) if target.is_dir() else [target]


def _read_entries(path: Path) -> list[dict[str, Any]]:
    doc = yaml.safe_load(path.read_text()) if path.exists() else None
    return list((doc or {}).get("feeds", []))


def _write_entries(path: Path, entries: list[dict[str, Any]]) -> None:
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


def add_feed(path: Path, feed: FeedConfig) -> None:
    entries = _read_entries(path)
    if any(e.get("id") == feed.id for e in entries):
        raise ValueError(f"feed {feed.id!r} is already in {path}")
    _write_entries(path, [*entries, _as_entry(feed)])


def remove_feed(path: Path, feed_id: str) -> None:
    entries = _read_entries(path)
    kept = [e for e in entries if e.get("id") != feed_id]
    if len(kept) == len(entries):
        raise KeyError(f"feed {feed_id!r} is not in {path}")
    _write_entries(path, kept)
