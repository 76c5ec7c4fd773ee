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
    websub_listen: str | None = typer.Option(
        None, help="WebSub callback server address, HOST:PORT (with --websub-public-url)."
    ),
    websub_public_url: str | None = typer.Option(
        None, help="The callback's URL as hubs reach it, e.g. https://watchfloor.example.org/websub."
    ),
    log_level: LogLevel | None = LevelOpt,
    log_format: LogFormat | None = FormatOpt,
) -> None:
    """Poll due feeds forever, publishing new items to Kafka; SIGTERM/SIGINT drain in-flight polls."""
    from connectors.feeds.job import run_ingest
    from connectors.logging import configure_logging

    configure_logging(log_level, log_format)
    given: dict[str, object] = {
        "workers": workers,
        "metrics_port": metrics_port,
        "websub_listen": websub_listen,
        "websub_public_url": websub_public_url,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    settings = IngestSettings.model_validate(overrides)  # validated like the environment, winning over it
    run_ingest(settings, StackSettings(), registry=registry, once=once)
