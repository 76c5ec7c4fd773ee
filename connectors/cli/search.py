"""``watchfloor search`` and ``watchfloor alerts list | show``: for a terminal, ``--json`` for scripts."""

from __future__ import annotations

from typing import Any

import typer

from connectors.cli.errors import Failure
from connectors.cli.notify import alerts_app, parse_duration
from connectors.cli.output import JsonOpt, print_json
from schemas.settings import StackSettings

SINCE_HELP = "Only the last 30m, 24h, 7d, …"


def _es() -> Any:
    from elasticsearch import Elasticsearch

    return Elasticsearch(StackSettings().es_url, request_timeout=30)


def search(
    text: str = typer.Argument(
        "", help='Words to find in headlines and text, e.g. "kim putin", or a link of any outlet carrying it.'
    ),
    topic: str | None = typer.Option(None, help="Only articles with this topic, e.g. arms_transfer."),
    actor: str | None = typer.Option(None, help="Only articles naming this actor id, e.g. PRK."),
    since: str | None = typer.Option(None, help=SINCE_HELP),
    size: int = typer.Option(20, help="How many results."),
    as_json: bool = JsonOpt,
) -> None:
    """Search every deduplicated article."""
    from rich.console import Console
    from rich.table import Table

    from connectors.search import search_articles

    es = _es()
    rows = search_articles(
        es, text, topic=topic, actor=actor, since=parse_duration(since) if since else None, size=size
    )
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} articles", show_lines=False)
    for column in ("time (UTC)", "source", "headline", "topics", "story"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["@timestamp"][:16].replace("T", " "),
            r["watchfloor"]["feed"]["name"],
            r["title"],
            ", ".join(r.get("topics", [])),
            r["story_id"],
        )
    Console().print(table)


@alerts_app.command("list")
def list_(
    topic: str | None = typer.Option(None, help="Only this topic."),
    min_severity: str | None = typer.Option(None, help="low, medium, high or critical."),
    since: str | None = typer.Option(None, help=SINCE_HELP),
    size: int = typer.Option(50, help="How many alerts."),
    as_json: bool = JsonOpt,
) -> None:
    """Alerts, newest first."""
    from rich.console import Console
    from rich.table import Table

    from connectors.search import list_alerts

    rows = list_alerts(
        _es(),
        topic=topic,
        min_severity=min_severity,
        since=parse_duration(since) if since else None,
        size=size,
    )
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} alerts")
    for column in ("time (UTC)", "severity", "topic", "rev", "headline", "sources", "alert id"):
        table.add_column(column)
    for r in rows:
        w = r["watchfloor"]
        table.add_row(
            r["@timestamp"][:16].replace("T", " "),
            w["severity"],
            w["topic"],
            str(w["revision"]),
            w["headline"],
            f"{w['source_count']} ({w['independent_sources']} ind.)",
            w["alert_id"],
        )
    Console().print(table)


@alerts_app.command("show")
def show(
    alert_id: str = typer.Argument(..., help="The alert id (watchfloor.alert_id)."),
    as_json: bool = typer.Option(False, "--json", help="The alert, its revisions and its sources as JSON."),
) -> None:
    """One alert: why it fired (explanation), its sources and its timeline."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from connectors.search import alert_detail

    detail = alert_detail(_es(), alert_id)
    if detail is None:
        raise Failure(f"no alert {alert_id}")
    if as_json:
        print_json(detail)
        return
    console = Console()
    alert, w = detail["alert"], detail["alert"]["watchfloor"]
    console.print(f"[bold]{escape(alert['message'])}[/]")
    console.print(
        f"story {w['story_id']} · topic {w['topic']} · revision {w['revision']} ({w['reason']}) · "
        f"modality {w.get('modality') or '—'}"
    )
    console.print("actors: " + (", ".join(f"{a['name']} ({a['id']})" for a in w.get("actors", [])) or "—"))
    severity = w.get("explanation", {}).get("severity", {})
    topic = w.get("explanation", {}).get("topic", {})
    console.print(f"\n[bold]why[/] severity: {severity.get('arithmetic', '—')}")
    console.print(f"    topic score: {topic.get('arithmetic', '—')}")
    for clause in topic.get("clauses", []):
        mark = "✓" if clause.get("satisfied") else "✗"
        words = ", ".join(dict.fromkeys(span["text"] for span in clause.get("spans", [])))
        lists = "/".join(clause.get("lists", []))
        console.print(
            escape(f"    {mark} {clause.get('kind')} {lists} {clause.get('detail', '')}")
            + (f" — {escape(words)}" if words else "")
        )
    sources = Table(title="sources")
    for column in ("time (UTC)", "source", "tier", "headline", "copy"):
        sources.add_column(column)
    for a in detail["articles"]:
        sources.add_row(
            a["@timestamp"][:16].replace("T", " "),
            a["watchfloor"]["feed"]["name"],
            a["watchfloor"]["feed"]["tier"],
            a["title"],
            "syndicated" if a.get("syndicated") else "",
        )
    console.print(sources)
    timeline = Table(title="timeline")
    for column in ("time (UTC)", "revision", "severity", "reason"):
        timeline.add_column(column)
    for r in detail["revisions"]:
        rw = r["watchfloor"]
        timeline.add_row(
            r["@timestamp"][:16].replace("T", " "), str(rw["revision"]), rw["severity"], rw["reason"]
        )
    console.print(timeline)
