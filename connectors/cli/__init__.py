"""``watchfloor``: the one command-line entry point, with a subcommand per job."""

from __future__ import annotations

import typer

from connectors.cli import (
    classify,
    contracts,
    demo,
    evaluate,
    feeds,
    ingest,
    kibana,
    notify,
    pipeline,
    search,
    smoke,
    stack,
)
from connectors.cli.errors import EXIT_CODES, OneLineErrors

app = typer.Typer(
    cls=OneLineErrors,
    help="Watchfloor: always-on news monitoring for geopolitical events.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version  # 30 ms: only for --version

        typer.echo(f"watchfloor {version('watchfloor')}")
        raise typer.Exit


@app.callback()
def _options(
    _version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    pass


app.add_typer(stack.app, name="stack")
app.add_typer(feeds.app, name="feeds")
app.command(name="ingest")(ingest.ingest)
app.command(name="classify")(classify.classify)
app.add_typer(classify.rules_app, name="rules")
app.command(name="smoke")(smoke.smoke)
app.add_typer(pipeline.app, name="pipeline")
app.command(name="notify")(notify.notify)
app.command(name="demo")(demo.demo)
app.command(name="search")(search.search)
app.add_typer(kibana.app, name="kibana")
app.add_typer(notify.alerts_app, name="alerts")
app.add_typer(contracts.app, name="schemas")
app.add_typer(evaluate.app, name="eval")


def main() -> None:
    app()
