"""``watchfloor classify`` and ``watchfloor rules test``: backtest tools, on the pipeline's own code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.cli.errors import fail

RulesOpt = typer.Option(
    None,
    "--rules-dir",
    help="Directory holding rules/, gazetteer/ and watchlist.yaml "
    "(default: WATCHFLOOR_PIPELINE_RULES_ROOT, else the bundled rule packs).",
    show_default=False,
)


class ClassifyLine(BaseModel):
    """One input line, strictly: a missing or null text, or a number where a string belongs, is an
    error, not the string "None" or "5". Parsed by pydantic's JSON parser, whose nesting limit turns a
    line of 100,000 brackets into a validation error instead of a RecursionError that ends the run."""

    model_config = ConfigDict(strict=True, extra="ignore", title="input line")

    id: str | int | None = None
    title: str = ""
    text: str
    language: str = "en"


rules_app = typer.Typer(help="Topic rule packs (deploy/rules/*.yaml).", no_args_is_help=True)


def rules_root(rules_dir: Path | None) -> Path:
    """The rules root to use; one without rule packs fails here rather than matching nothing."""
    from schemas.bundled import MissingRules, rule_packs
    from schemas.settings import PipelineSettings

    root = rules_dir or PipelineSettings().rules_root
    try:
        rule_packs(root)
    except MissingRules as exc:
        fail(exc)
    return root


def classify(rules_dir: Path | None = RulesOpt) -> None:
    """Read JSON lines {"id", "title", "text", "language"} on stdin; write one JSON line per input.
    A line that is not such an object is skipped with a reason on stderr (then exit 1)."""
    from connectors.reasons import describe
    from pipeline.classify import Classifier

    classifier = Classifier.from_dir(rules_root(rules_dir))
    bad = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            doc = ClassifyLine.model_validate_json(line)
        except ValidationError as exc:
            bad += 1
            typer.echo(f"line {number}: skipped: {describe(exc)}", err=True)
            continue
        result = classifier.classify(doc.title, doc.text, doc.language)
        out = {
            "id": doc.id,
            "topics": [
                {"topic": t["topic"], "score": t["score"], "explanation": t}
                for t in result.to_dict()["topics"]
            ],
            "actors": [{"id": a.id, "name": a.name, "type": a.type} for a in result.actors],
            "modality": result.modality,
        }
        typer.echo(json.dumps(out, ensure_ascii=False))
    if bad:
        raise typer.Exit(1)


@rules_app.command("test")
def test_rules(rules_dir: Path | None = RulesOpt) -> None:
    """Run every rule's positive and negative examples; exit 1 if any misbehaves."""
    from pipeline.classify import Classifier
    from pipeline.classify.examples import cases, failure
    from pipeline.classify.rules import load_rules
    from schemas.bundled import rule_packs

    root = rules_root(rules_dir)
    classifier = Classifier.from_dir(root)
    all_cases = cases(load_rules(rule_packs(root)))
    failed = 0
    for case in all_cases:
        why = failure(classifier, case)
        if why:
            failed += 1
            typer.echo(f"FAIL {case.name}: {why}")
    typer.echo(f"{len(all_cases) - failed} examples passed, {failed} failed")
    if failed:
        raise typer.Exit(1)
