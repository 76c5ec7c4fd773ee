"""``watchfloor kibana setup``: data views, saved searches and the dashboard, installed idempotently."""

from __future__ import annotations

import typer
from pydantic import SecretStr

from connectors.cli.errors import fail

app = typer.Typer(
    help="Kibana: install Watchfloor's data views, saved searches and dashboard.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must not print the API key
)


@app.command("setup")
def setup(
    url: str = typer.Option(..., help="Kibana base URL, e.g. http://127.0.0.1:5601."),
    api_key: SecretStr | None = typer.Option(
        None,
        parser=SecretStr,
        metavar="KEY",
        envvar="WATCHFLOOR_KIBANA_API_KEY",
        help="Kibana API key (encoded form), sent as 'Authorization: ApiKey KEY'.",
        show_default=False,
    ),
) -> None:
    """Create or replace the assets in deploy/kibana/; safe to run again."""
    import httpx

    from connectors.kibana import ASSETS, KibanaError, setup_kibana

    try:
        installed = setup_kibana(url, api_key, ASSETS)
    except (KibanaError, httpx.HTTPError) as exc:
        fail(exc, "kibana setup failed")
    for line in installed:
        typer.echo(f"installed {line}")
