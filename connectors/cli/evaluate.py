"""``watchfloor eval``: scorers an analyst runs against labelled data before deploying a change."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from connectors.cli.classify import RulesOpt

if TYPE_CHECKING:
    from pipeline.classify.backtest import GoldItem

app = typer.Typer(help="Score the pipeline's analysis against labelled data.", no_args_is_help=True)

EXCERPT_CHARS = 160


@app.command("topics")
def topics(
    gold: Path = typer.Option(
        ...,
        "--gold",
        exists=True,
        dir_okay=False,
        help='JSON lines {"id", "title", "text", "language", "topics": [...]}; [] marks a negative.',
    ),
    show_errors: int = typer.Option(
        0,
        "--show-errors",
        min=0,
        help="List up to N misses and N false alarms per topic, with each one's score arithmetic.",
    ),
    rules_dir: Path = RulesOpt,
) -> None:
    """Per-topic precision, recall and F1 of the rules in --rules-dir against a labelled file."""
    from pipeline.classify import Classifier
    from pipeline.classify.backtest import evaluate, read_gold

    try:
        items = read_gold(gold.read_text(encoding="utf-8").splitlines())
    except ValueError as exc:
        typer.echo(f"{gold}: {exc}", err=True)
        raise typer.Exit(2) from exc
    classifier = Classifier.from_dir(rules_dir)

    def predict(item: GoldItem) -> list[str]:
        return classifier.classify(item.title, item.text, item.language).topic_ids

    report = evaluate(items, predict, (rule.id for rule in classifier.rules.rules))
    typer.echo(
        f"{'topic':<20} {'gold':>5} {'found':>5} {'tp':>5} {'fp':>5} {'fn':>5} "
        f"{'precision':>9} {'recall':>6} {'f1':>5}"
    )
    for t in report.topics:
        typer.echo(
            f"{t.topic:<20} {t.gold:>5} {t.predicted:>5} {t.true_positives:>5} {t.false_positives:>5} "
            f"{t.false_negatives:>5} {_rate(t.precision):>9} {_rate(t.recall):>6} {_rate(t.f1):>5}"
        )
    typer.echo(f"macro-F1 {_rate(report.macro_f1)} over {len(report.topics)} topics, {len(items)} articles")
    if not show_errors:
        return
    for t in report.topics:
        misses, alarms = report.misses(t.topic), report.false_alarms(t.topic)
        if not (misses or alarms):
            continue
        typer.echo(f"\n{t.topic}: {len(misses)} missed, {len(alarms)} false alarms")
        for kind, outcomes in (("missed", misses), ("false alarm", alarms)):
            for outcome in outcomes[:show_errors]:
                item = outcome.item
                arithmetic = next(
                    (m.arithmetic for m in classifier.explain(item.title, item.text, item.language)
                     if m.topic == t.topic),
                    "no term of the rule occurs",
                )  # fmt: skip
                typer.echo(f"  {kind} {item.id}: {_excerpt(item)}\n    {arithmetic}")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _excerpt(item: GoldItem) -> str:
    line = " ".join(f"{item.title} | {item.text}".split() if item.title else item.text.split())
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"
