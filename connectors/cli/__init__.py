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

app = typer.Typer(
    help="Watchfloor: always-on news monitoring for geopolitical events.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(stack.app, name="stack")
app.add_typer(feeds.app, name="feeds")
app.command(name="ingest")(ingest.ingest)
app.command(name="classify")(classify.classify)
app.add_typer(classify.rules_app, name="rules")
app.add_typer(evaluate.app, name="eval")
app.command(name="smoke")(smoke.smoke)
app.add_typer(pipeline.app, name="pipeline")
app.command(name="notify")(notify.notify)
app.command(name="demo")(demo.demo)
app.command(name="search")(search.search)
app.add_typer(kibana.app, name="kibana")
app.add_typer(notify.alerts_app, name="alerts")
app.add_typer(contracts.app, name="schemas")


def main() -> None:
    app()
