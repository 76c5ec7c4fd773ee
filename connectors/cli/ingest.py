"""``watchfloor ingest``: the always-on feed ingestion job."""

from __future__ import annotations

from pathlib import Path

import typer

from connectors.cli.logs import FormatOpt, LevelOpt
from schemas.settings import IngestSettings, LogFormat, LogLevel, StackSettings


def ingest(
    registry: Path | None = typer.Option(None, "--registry", "-r", help="Registry file or directory."),
    once: bool = typer.Option(False, "--once", help="Poll every due feed once, then exit (cron, tests)."),
    workers: int | None = typer.Option(None, help="Concurrent fetches (default: 8)."),
    metrics_port: int | None = typer.Option(None, help="Serve Prometheus metrics on 127.0.0.1:PORT."),
    log_level: LogLevel | None = LevelOpt,
    log_format: LogFormat | None = FormatOpt,
) -> None:
    """Poll due feeds forever, publishing new items to Kafka; SIGTERM/SIGINT drain in-flight polls."""
    from connectors.feeds.job import run_ingest
    from connectors.logging import configure_logging

    configure_logging(log_level, log_format)
    overrides = {k: v for k, v in {"workers": workers, "metrics_port": metrics_port}.items() if v is not None}
    settings = IngestSettings().model_copy(update=overrides)
    run_ingest(settings, StackSettings(), registry=registry, once=once)
