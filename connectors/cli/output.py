"""Output for scripts: every listing and status command takes ``--json`` and then prints one JSON
document per line (a row, a service, a feed), so `jq` and line-by-line readers need no framing."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import typer

JsonOpt = typer.Option(False, "--json", help="One JSON document per line, for scripts.")


def print_json(rows: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> None:
    for row in [rows] if isinstance(rows, Mapping) else rows:
        typer.echo(json.dumps(row, ensure_ascii=False, default=str))
