"""``--log-level`` and ``--log-format``, the same on every long-running command."""

from __future__ import annotations

import typer

LevelOpt = typer.Option(
    None,
    "--log-level",
    case_sensitive=False,
    help="Watchfloor's own log level; DEBUG lets libraries speak too "
    "(default: WATCHFLOOR_LOG_LEVEL, else INFO).",
    show_default=False,
)
FormatOpt = typer.Option(
    None,
    "--log-format",
    help="json (one ECS object per line) or text (default: WATCHFLOOR_LOG_FORMAT, else json).",
    show_default=False,
)
