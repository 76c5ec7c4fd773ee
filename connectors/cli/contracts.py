"""``watchfloor schemas``: the contracts' JSON Schemas, exported for consumers that are not Python."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="JSON Schemas (draft 2020-12) of Watchfloor's contracts (schemas/contracts.py).",
    no_args_is_help=True,
)

SUFFIX = ".schema.json"


def _stale(directory: Path, wanted: dict[str, str]) -> list[str]:
    """Every file that differs from the export, is missing, or is a schema of no contract."""
    problems = []
    for name, text in sorted(wanted.items()):
        path = directory / name
        if not path.is_file():
            problems.append(f"missing {path}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"stale {path}")
    if directory.is_dir():
        problems += [f"extra {p}" for p in sorted(directory.glob(f"*{SUFFIX}")) if p.name not in wanted]
    return problems


@app.command("export")
def export(
    directory: Path = typer.Argument(Path("schemas/json"), help="Where the <name>.schema.json files go."),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 listing every stale, missing or extra file."
    ),
) -> None:
    """Write one <name>.schema.json per contract, and remove schema files of contracts that are gone."""
    from schemas.contracts import CONTRACTS, render

    wanted = {c.file_name: render(c.name) for c in CONTRACTS}
    problems = _stale(directory, wanted)
    if check:
        for problem in problems:
            typer.echo(problem, err=True)
        if problems:
            typer.echo("regenerate with: watchfloor schemas export", err=True)
            raise typer.Exit(1)
        typer.echo(f"{len(wanted)} schemas in {directory} are up to date")
        return
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in wanted.items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {path}")
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        if path.name not in wanted:
            path.unlink()
            typer.echo(f"removed {path}")
    typer.echo(f"{len(wanted)} schemas in {directory}")
