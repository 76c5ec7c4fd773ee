"""``watchfloor demo``: what ``make run`` runs — the whole system on the local stack."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    feeds: Path | None = typer.Option(
        None, help="A feed registry to run on instead of the bundled demo (e.g. deploy/feeds/world.yaml)."
    ),
    speed: float = typer.Option(2.0, help="Replay speed of the bundled demo news (2 = twice real time)."),
    duration: float | None = typer.Option(None, help="Stop by itself after this many seconds."),
    summary: Path | None = typer.Option(
        None, help="Write every webhook delivery received to this JSON file."
    ),
) -> None:
    """Stack, ingestion, pipeline and notifier with a live view; Ctrl-C stops everything it started."""
    from connectors.demo.run import run_demo

    run_demo(feeds, speed, duration, summary)
