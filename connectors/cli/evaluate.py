"""``watchfloor eval``: scorers an analyst runs against labelled data before deploying a change; they run
the pipeline's own logic and need no stack."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from connectors.cli.classify import RulesOpt, rules_root

if TYPE_CHECKING:
    from pipeline.classify import Classifier
    from pipeline.classify.backtest import GoldItem, ModalityScore

app = typer.Typer(help="Score the pipeline's analysis against labelled data.", no_args_is_help=True)

EXCERPT_CHARS = 160


@app.command("topics")
def topics(
    gold: Path = typer.Option(
        ...,
        "--gold",
        exists=True,
        dir_okay=False,
        help='JSON lines {"id", "title", "text", "language", "topics": [...], "modality"?: {topic: value}};'
        " [] marks a negative.",
    ),
    show_errors: int = typer.Option(
        0,
        "--show-errors",
        min=0,
        help="List up to N misses and N false alarms per topic, with each one's score arithmetic, "
        "and up to N modality errors with their cues.",
    ),
    rules_dir: Path | None = RulesOpt,
) -> None:
    """Per-topic precision, recall and F1 of the rules in --rules-dir against a labelled file; when gold
    lines carry a modality per topic, also modality accuracy and confusion over the topics found."""
    from pipeline.classify import Classifier
    from pipeline.classify.backtest import evaluate, read_gold

    try:
        items = read_gold(gold.read_text(encoding="utf-8").splitlines())
    except ValueError as exc:
        typer.echo(f"{gold}: {exc}", err=True)
        raise typer.Exit(2) from exc
    classifier = Classifier.from_dir(rules_root(rules_dir))

    def predict(item: GoldItem) -> dict[str, str | None]:
        result = classifier.classify(item.title, item.text, item.language)
        return {t.topic: t.modality for t in result.topics}

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
    if (modality := report.modality) is not None:
        _modality_table(modality)
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
    if modality is not None and modality.errors:
        _modality_errors(modality, classifier, show_errors)


def _modality_table(score: ModalityScore) -> None:
    """Accuracy, then the confusion table (gold rows, predicted columns) with each class's recall on its
    row and precision on the last row."""
    from pipeline.classify.backtest import MODALITIES

    typer.echo(
        f"\nmodality accuracy {_rate(score.accuracy)} over {len(score.pairs)} (article, topic) pairs"
        f" gold and predicted; {score.unscored} gold pairs not scored (topic missed or no modality)"
    )
    typer.echo(_row("gold/predicted", MODALITIES, "recall"))
    for gold in MODALITIES:
        typer.echo(_row(gold, [score.count(gold, m) for m in MODALITIES], _rate(score.recall(gold))))
    typer.echo(_row("precision", [_rate(score.precision(m)) for m in MODALITIES]))


def _row(label: str, cells: Sequence[object], last: str = "") -> str:
    """A confusion-table line: each cell as wide as its column's modality name, plus two spaces."""
    from pipeline.classify.backtest import MODALITIES

    width = max(map(len, MODALITIES)) + 1
    line = f"{label:<{width}}" + "".join(
        f"{cell!s:>{len(m) + 2}}" for m, cell in zip(MODALITIES, cells, strict=True)
    )
    return f"{line}  {last:>6}" if last else line


def _modality_errors(score: ModalityScore, classifier: Classifier, limit: int) -> None:
    """The first `limit` wrong modalities, each with the votes and cues that decided it."""
    errors = score.errors
    typer.echo(f"\nmodality: {len(errors)} wrong of {len(score.pairs)}")
    for pair in errors[:limit]:
        item = pair.item
        result = classifier.classify(item.title, item.text, item.language)
        explanation = next(t.modality_explanation for t in result.topics if t.topic == pair.topic)
        votes = ", ".join(f"{k} {v:g}" for k, v in explanation.get("votes", {}).items())
        cues = ", ".join(f"{c['text']!r} {c['modality']}" for c in explanation.get("cues", ())) or "none"
        typer.echo(
            f"  {item.id} {pair.topic}: gold {pair.gold}, predicted {pair.predicted}: {_excerpt(item)}"
            f"\n    votes {votes}; cues {cues}"
        )


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _excerpt(item: GoldItem) -> str:
    line = " ".join(f"{item.title} | {item.text}".split() if item.title else item.text.split())
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"


@app.command("stories")
def stories(
    items: Path = typer.Option(
        ..., "--items", help="JSON lines: feed, guid, title, link, summary, published."
    ),
    gold: Path = typer.Option(..., "--gold", help="JSON lines, one per item: guid, story, topics."),
    rules_dir: Path | None = RulesOpt,
    show: int = typer.Option(0, "--show-stories", help="List the N largest gold stories and how they split."),
) -> None:
    """Replay a corpus in publication order through dedup, classification, story assignment and alert
    decisions; print story clustering (B-cubed, pairwise) and alert scores against the gold."""
    from connectors.corpus import CorpusError, feed_item, read_corpus
    from pipeline.classify import Classifier
    from pipeline.state import PipelineState
    from pipeline.storyeval import replay, score

    try:
        corpus = read_corpus(items, gold)
    except CorpusError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    root = rules_root(rules_dir)
    result = replay(
        PipelineState.configured(root),
        Classifier.from_dir(root),
        ((feed_item(entry), label) for entry, label in corpus),
    )
    r = score(result)
    a = r.alerts
    lines = [
        f"items {r.items} (labelled {r.labelled}, exact duplicates {r.duplicates});"
        f" stories: gold {r.gold_stories}, predicted {r.predicted_stories}",
        f"B-cubed      P {r.bcubed.precision:.3f}  R {r.bcubed.recall:.3f}  F1 {r.bcubed.f1:.3f}",
        f"pairwise     P {r.pairs.precision:.3f}  R {r.pairs.recall:.3f}  F1 {r.pairs.f1:.3f}"
        f"  (true pairs {r.pairs.true_pairs}, predicted {r.pairs.predicted_pairs})",
        f"pair recall  copies {r.pairs.copy_recall:.3f} ({r.pairs.copy_pairs} pairs)"
        f"  own words {r.pairs.own_words_recall:.3f} ({r.pairs.true_pairs - r.pairs.copy_pairs} pairs)",
        f"alerts       per real (story, topic) {a.per_real:.2f}; exactly one {a.exactly_one}/{a.alerted};"
        f" missed {a.real - a.alerted}/{a.real} ({a.missed:.0%}); false {a.false}",
    ]
    for name, t in r.topics.items():
        precision, recall = ("—" if v is None else f"{v:.2f}" for v in (t.precision, t.recall))
        lines.append(
            f"topic        {name:<18} P {precision:<4}  R {recall:<4}  (articles: found {t.predicted},"
            f" right {t.true_positives}, missed {t.false_negatives})"
        )
    for line in lines:
        typer.echo(line)
    if show:
        typer.echo(f"missed (story, topic): {a.missed_pairs}")
        typer.echo(f"false (story, topic): {a.false_pairs}")
    if show:
        from pipeline.storyeval import story_splits

        for story, size, parts in story_splits(result)[:show]:
            typer.echo(f"  {story}: {size} items in {len(parts)} stories {parts}")
