"""``watchfloor notify`` (deliver alerts to on-call analysts) and ``watchfloor alerts snooze``."""

from __future__ import annotations

import logging
import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
import yaml

from connectors.cli.errors import fail
from connectors.cli.logs import FormatOpt, LevelOpt
from schemas.settings import LogFormat, LogLevel, NotifySettings, StackSettings

alerts_app = typer.Typer(help="Alerts: snooze stories or actors.", no_args_is_help=True)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '6h', '2d' → timedelta."""
    match = _DURATION.match(text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r}: use a number and s, m, h or d, e.g. 6h")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def notify(
    config: Path | None = typer.Option(
        None, help="Destinations YAML (default: WATCHFLOOR_NOTIFY_CONFIG, else bundled deploy/notify.yaml)."
    ),
    metrics_port: int | None = typer.Option(None, help="Serve Prometheus metrics on 127.0.0.1:PORT."),
    idle_exit: float | None = typer.Option(
        None, help="Exit once every alert is settled and none arrived for this many seconds."
    ),
    log_level: LogLevel | None = LevelOpt,
    log_format: LogFormat | None = FormatOpt,
) -> None:
    """Consume watchfloor.alerts and deliver each alert once per routed destination until SIGTERM."""
    from prometheus_client import start_http_server

    from connectors.logging import configure_logging
    from connectors.notify.config import credentials, load_config
    from connectors.notify.notifier import Notifier, NotifyMetrics

    configure_logging(log_level, log_format)
    log = logging.getLogger("watchfloor.notify")
    settings = NotifySettings()
    path = config or settings.config
    try:
        cfg = load_config(path)
        creds = credentials(cfg)
    except OSError as exc:
        fail(exc, "notifier cannot start")
    except (ValueError, yaml.YAMLError) as exc:  # pydantic's ValidationError is a ValueError
        fail(exc, f"notifier cannot start: {path}")
    metrics = NotifyMetrics()
    port = metrics_port or settings.metrics_port
    if port:
        start_http_server(port, addr="127.0.0.1", registry=metrics.registry)
    notifier = Notifier(
        cfg,
        creds,
        bootstrap=StackSettings().kafka_bootstrap,
        alerts_topic=settings.alerts_topic,
        dead_letter_topic=settings.dead_letter_topic,
        state_topic=settings.state_topic,
        group_id=settings.group_id,
        metrics=metrics,
        ops_topic=settings.ops_topic,
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: notifier.stop())
    log.info("notifier running", extra={"destinations": [d.id for d in cfg.destinations]})
    try:
        notifier.run(idle_exit_s=idle_exit)
    except RuntimeError as exc:
        log.error("notifier stopped: %s", exc)
        raise typer.Exit(1) from exc
    log.info("notifier stopped")


@alerts_app.command("snooze")
def snooze(
    story_id: str | None = typer.Argument(None, help="The story to silence (st-…)."),
    actor: str | None = typer.Option(None, "--actor", help="Silence every alert involving this actor id."),
    duration: str = typer.Option("6h", "--for", help="How long: 30m, 6h, 2d."),
) -> None:
    """Silence a story's (or an actor's) alerts on every destination for a while."""
    from connectors.notify.notifier import SNOOZE_PREFIX, Snoozes
    from connectors.notify.table import CompactedTable

    if (story_id is None) == (actor is None):
        raise typer.BadParameter("give a STORY_ID or --actor, not both")
    until = datetime.now(UTC) + parse_duration(duration)
    table = CompactedTable(StackSettings().kafka_bootstrap, NotifySettings().state_topic, SNOOZE_PREFIX)
    try:
        kind, value = ("story", story_id) if story_id else ("actor", actor or "")
        Snoozes(table).add(kind, value, until)
    finally:
        table.close()
    typer.echo(f"snoozed {kind} {value} until {until.isoformat(timespec='seconds')}")
