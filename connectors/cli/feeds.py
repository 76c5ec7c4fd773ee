"""``watchfloor feeds``: the feed registry and its health."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from connectors.cli.errors import Failure, fail
from connectors.cli.output import JsonOpt, print_json
from connectors.feeds.opml import OpmlError, export_opml, import_opml
from connectors.feeds.registry import (
    FeedExists,
    RegistryError,
    RegistryFileError,
    add_feed,
    load_registry,
    registry_files,
    remove_feed,
)
from schemas.deadletter import describe_validation
from schemas.feed import FeedConfig, SourceTier
from schemas.settings import IngestSettings, StackSettings

app = typer.Typer(
    help="Manage the feed registry (deploy/feeds/*.yaml) and see each feed's health.", no_args_is_help=True
)

RegistryOpt = typer.Option(
    None,
    "--registry",
    "-r",
    help="Registry YAML file or directory (default: WATCHFLOOR_INGEST_REGISTRY, else the bundled "
    "deploy/feeds).",
)


def _registry(path: Path | None) -> Path:
    return path or IngestSettings().registry


def _file(path: Path | None) -> Path:
    target = _registry(path)
    return target / "world.yaml" if target.is_dir() else target


def _load(path: Path | None) -> tuple[list[FeedConfig], list[RegistryError]]:
    """The registry's feeds and invalid entries; a registry that is not there is a failure, not empty."""
    try:
        return load_registry(registry_files(_registry(path)))
    except FileNotFoundError as exc:
        fail(exc)


def _fail_on_invalid(errors: list[RegistryError]) -> None:
    """Each invalid entry on its own line, then the failure that they make."""
    for e in errors:
        typer.echo(f"invalid: {e}", err=True)
    if errors:
        raise Failure(
            f"the registry has {len(errors)} invalid {'entry' if len(errors) == 1 else 'entries'} (above)"
        )


@app.command("list")
def list_feeds(registry: Path | None = RegistryOpt, as_json: bool = JsonOpt) -> None:
    """List registered feeds, and every entry that failed validation (then exit 1)."""
    feeds, errors = _load(registry)
    if as_json:
        print_json(f.model_dump(mode="json") for f in feeds)
    else:
        for f in feeds:
            flag = "" if f.enabled else f"  [disabled: {f.disabled_reason}]"
            typer.echo(f"{f.id:<24} {f.tier.value:<12} {f.language} {f.country or '--'}  {f.url}{flag}")
    typer.echo(f"{len(feeds)} feeds", err=True)
    _fail_on_invalid(errors)


@app.command()
def add(
    feed_id: str = typer.Option(..., "--id"),
    url: str = typer.Option(...),
    name: str = typer.Option(...),
    tier: SourceTier = typer.Option(SourceTier.NATIONAL),
    language: str = typer.Option("en"),
    country: str | None = typer.Option(None),
    tag: list[str] = typer.Option([], help="Repeat for several tags."),
    registry: Path | None = RegistryOpt,
) -> None:
    """Add a feed to a registry file (validated first)."""
    try:
        feed = FeedConfig(
            id=feed_id, url=url, name=name, tier=tier, language=language, country=country, tags=tuple(tag)
        )
    except ValidationError as exc:
        raise typer.BadParameter(describe_validation(exc)) from None
    try:
        add_feed(_file(registry), feed)
    except (FeedExists, RegistryFileError, OSError) as exc:
        fail(exc)
    typer.echo(f"added {feed.id}")


@app.command()
def remove(feed_id: str, registry: Path | None = RegistryOpt) -> None:
    """Remove a feed from a registry file."""
    try:
        remove_feed(_file(registry), feed_id)
    except KeyError as exc:
        raise Failure(exc.args[0]) from None
    except (RegistryFileError, OSError) as exc:
        fail(exc)
    typer.echo(f"removed {feed_id}")


@app.command()
def check(url: str, as_json: bool = JsonOpt) -> None:
    """Fetch, parse and normalise one feed URL now, without publishing anything."""
    from connectors.feeds.http import Fetcher, FetchError, FetchPolicy
    from connectors.feeds.normalize import normalize_feed
    from connectors.feeds.parse import FeedParseError, parse_feed

    try:
        feed = FeedConfig(id="check", url=url, name="check")
    except ValidationError as exc:
        raise typer.BadParameter(describe_validation(exc), param_hint="'URL'") from None
    started = time.monotonic()
    try:
        with Fetcher(FetchPolicy(allow_networks=IngestSettings().allow_networks)) as fetcher:
            result = fetcher.fetch(url)
        parsed = parse_feed(result.body, result.headers, result.final_url)
    except (FetchError, FeedParseError) as exc:
        fail(exc)
    items, failures = normalize_feed(parsed, feed, datetime.now(UTC))
    took = time.monotonic() - started
    if as_json:
        summary = {
            "status": result.status,
            "url": result.final_url,
            "seconds": round(took, 2),
            "bytes": len(result.body),
            "title": parsed.title,
            "version": parsed.version or None,
            "bozo": parsed.bozo_reason,
            "entries": len(parsed.entries),
            "rejected": [str(f) for f in failures],
        }
        print_json([summary, *(item.model_dump(mode="json") for item in items)])
    else:
        _print_check(result, parsed, items, len(failures), took)
    if not parsed.is_feed:
        raise Failure(f"{result.final_url} is not an RSS or Atom feed")


def _print_check(result: Any, parsed: Any, items: list[Any], rejected: int, took: float) -> None:
    typer.echo(f"HTTP {result.status} {result.final_url} in {took:.2f}s, {len(result.body)} bytes")
    typer.echo(
        f"feed: {parsed.title!r} ({parsed.version or 'not a feed'}), bozo: {parsed.bozo_reason or 'no'}"
    )
    typer.echo(f"entries: {len(parsed.entries)}, items: {len(items)}, rejected: {rejected}")
    for item in items[:5]:
        typer.echo(f"  {item.published or '?'}  {item.title[:90]}")


@app.command("import-opml")
def import_opml_cmd(opml: Path, registry: Path | None = RegistryOpt) -> None:
    """Add every feed of an OPML file to a registry file (a broken file: the feeds it still holds)."""
    try:
        result = import_opml(opml.read_bytes())
    except OSError as exc:
        fail(exc)
    except OpmlError as exc:
        fail(exc, str(opml))
    if result.damage:
        typer.echo(f"warning: {opml}: {result.damage}; imported the outlines it still holds", err=True)
    for e in result.errors:
        typer.echo(f"invalid: {e}", err=True)
    target = _file(registry)
    added = 0
    for feed in result.feeds:
        try:
            add_feed(target, feed)
        except FeedExists as exc:
            typer.echo(f"skipped: {exc}", err=True)
            continue
        except (RegistryFileError, OSError) as exc:
            fail(exc)
        added += 1
    skipped = len(result.feeds) - added
    typer.echo(f"imported {added} feeds into {target}{f', {skipped} already there' if skipped else ''}")


@app.command("export-opml")
def export_opml_cmd(registry: Path | None = RegistryOpt, out: Path | None = typer.Option(None)) -> None:
    """Write the registry as OPML (stdout by default); invalid entries are left out (then exit 1)."""
    feeds, errors = _load(registry)
    data = export_opml(feeds)
    if out:
        try:
            out.write_bytes(data)
        except OSError as exc:
            fail(exc)
    else:
        typer.echo(data.decode())
    _fail_on_invalid(errors)


@app.command()
def health(
    registry: Path | None = RegistryOpt,
    as_json: bool = typer.Option(False, "--json", help="The feeds as one JSON array, for scripts."),
) -> None:
    """Each feed's last success, error streak, next poll, items/day and silence, from the state topic."""
    from connectors.feeds.statestore import KafkaStateStore

    feeds, errors = _load(registry)
    store = KafkaStateStore(StackSettings().kafka_bootstrap, IngestSettings().state_topic)
    now = datetime.now(UTC)
    rows = []
    for feed in feeds:
        s = store.get(feed.id)
        rows.append(
            {
                "feed": feed.id,
                "last_success": s.last_success.isoformat(timespec="seconds")
                if s and s.last_success
                else None,
                "error_streak": s.consecutive_failures if s else 0,
                "next_poll": s.next_due.isoformat(timespec="seconds") if s else "now",
                "items_per_day": round(s.items_per_day() or 0, 1) if s else None,
                "silent": bool(s and s.is_silent(now)),
                "status": (s.disabled_reason and "disabled")
                or (s and s.consecutive_failures and "failing")
                or "ok"
                if s
                else "never polled",
                "last_error": s.last_error if s else None,
            }
        )
    rows += [{"feed": e.feed_id, "status": "invalid", "last_error": str(e)} for e in errors]
    store.close()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(
            f"{r['feed'] or '?':<24} {r['status']:<13} streak={r.get('error_streak', '-')!s:<3} "
            f"last_ok={r.get('last_success') or '-':<25} next={r.get('next_poll') or '-':<25} "
            f"items/day={r.get('items_per_day') or '-'}{'  SILENT' if r.get('silent') else ''}"
            f"{'  ' + str(r['last_error']) if r.get('last_error') else ''}"
        )
