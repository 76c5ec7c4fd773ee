"""``watchfloor eval``: measure the pipeline's own logic against labelled corpora, no stack needed."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Score the pipeline against labelled corpora (no stack needed).", no_args_is_help=True)


@app.command("stories")
def stories(
    items: Path = typer.Option(
        ..., "--items", help="JSON lines: feed, guid, title, link, summary, published."
    ),
    gold: Path = typer.Option(..., "--gold", help="JSON lines, one per item: guid, story, topics."),
    rules_dir: Path = typer.Option(
        Path("deploy"), "--rules-dir", help="Holds rules/, gazetteer/, watchlist."
    ),
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
    result = replay(
        PipelineState.configured(rules_dir),
        Classifier.from_dir(rules_dir),
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
    for line in lines:
        typer.echo(line)
    if show:
        typer.echo(f"missed (story, topic): {a.missed_pairs}")
        typer.echo(f"false (story, topic): {a.false_pairs}")
    if show:
        from pipeline.storyeval import story_splits

        for story, size, parts in story_splits(result)[:show]:
            typer.echo(f"  {story}: {size} items in {len(parts)} stories {parts}")
