"""``watchfloor stack``: the local Kafka + Elasticsearch stack."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import typer

from connectors.cli.errors import fail
from connectors.cli.output import JsonOpt, print_json
from connectors.stack.process import StackError
from schemas.settings import StackSettings

if TYPE_CHECKING:
    from connectors.stack.local import LocalStack, ServiceStatus

app = typer.Typer(
    help="Run the local stack: Kafka (KRaft) and Elasticsearch on 127.0.0.1.", no_args_is_help=True
)


def _stack() -> LocalStack:
    # Imported here: the stack's Kafka and Elasticsearch clients take half a second to import, which
    # every other command (and `watchfloor --help`) would pay.
    from connectors.stack.local import LocalStack

    return LocalStack(StackSettings())


def _print(statuses: list[ServiceStatus]) -> None:
    for s in statuses:
        mark = "healthy" if s.healthy else "DOWN"
        typer.echo(f"{s.name:<14} {mark:<8} pid={s.pid or '-':<8} {s.endpoint:<24} {s.detail}")


@app.command()
def fetch() -> None:
    """Stage every artifact (Kafka, Elasticsearch, Prism, Flink job server); needs only package registries."""
    try:
        for path in _stack().fetch():
            typer.echo(f"staged {path}")
    except StackError as exc:
        fail(exc)


@app.command()
def up() -> None:
    """Start Kafka and Elasticsearch (idempotent), wait until healthy, create Watchfloor's topics."""
    started = time.monotonic()
    try:
        statuses = _stack().up()
    except StackError as exc:
        fail(exc)
    _print(statuses)
    typer.echo(f"stack up in {time.monotonic() - started:.1f}s")


@app.command()
def down() -> None:
    """Stop the services this stack started; leaves no process behind."""
    stopped = _stack().down()
    typer.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@app.command()
def status(as_json: bool = JsonOpt) -> None:
    """Show each service's process and health; exit 1 unless all are healthy."""
    statuses = _stack().status()
    if as_json:
        print_json(dataclasses.asdict(s) for s in statuses)
    else:
        _print(statuses)
    if not all(s.healthy for s in statuses):
        raise typer.Exit(1)


@app.command()
def logs(
    service: str = typer.Argument(..., help="kafka or elasticsearch"),
    lines: int = typer.Option(50, "--lines", "-n", help="How many lines from the end of each log."),
) -> None:
    """Print the tail of a service's logs."""
    try:
        typer.echo(_stack().logs(service, lines))
    except StackError as exc:
        fail(exc)
