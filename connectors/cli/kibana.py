"""``watchfloor kibana setup``: data views, saved searches and the dashboard, installed idempotently."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Kibana: install Watchfloor's data views, saved searches and dashboard.", no_args_is_help=True
)


@app.command("setup")
def setup(
    url: str = typer.Option(..., help="Kibana base URL, e.g. http://127.0.0.1:5601."),
    api_key: str | None = typer.Option(
        None,
        envvar="WATCHFLOOR_KIBANA_API_KEY",
        help="API key (or env WATCHFLOOR_KIBANA_API_KEY).",
        show_default=False,
    ),
) -> None:
    """Create or replace the assets in deploy/kibana/; safe to run again."""
    import httpx
    from pydantic import SecretStr

    from connectors.kibana import KibanaError, setup_kibana

    try:
        installed = setup_kibana(url, SecretStr(api_key) if api_key else None)
    except (KibanaError, httpx.HTTPError) as exc:
        typer.echo(f"kibana setup failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    for line in installed:
        typer.echo(f"installed {line}")
