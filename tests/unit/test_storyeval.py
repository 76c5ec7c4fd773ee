import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.cli import app
from connectors.corpus import CorpusError, feed_item, read_corpus
from pipeline.classify import Classifier
from pipeline.state import PipelineState
from pipeline.storyeval import Gold, Replay, Replayed, bcubed, pairwise, replay, score, topic_counts

REPO = Path(__file__).resolve().parents[2]
DEV_DAY = REPO.parent / "shared" / "corpora" / "news-day-2023-09-13"
T0 = datetime(2026, 3, 1, 6, tzinfo=UTC)

# Our own words: one event in three reports (a copy among them), and one other event.
ROWS = [
    ("north-wire", "Ferry sinks off Lampedusa with 40 aboard",
     "<p>A ferry carrying 40 people sank off <b>Lampedusa</b> on Sunday, the Italian coastguard said.</p>",
     "ferry-lampedusa", []),
    ("south-post", "Ferry sinks off Lampedusa with 40 aboard",
     "A ferry carrying 40 people sank off Lampedusa on Sunday, the Italian coastguard said. More follows.",
     "ferry-lampedusa", []),
    ("east-daily", "Italian coastguard searches for survivors after Lampedusa sinking",
     "Rescuers near Lampedusa pulled survivors from the sea after a ferry went down with 40 people aboard.",
     "ferry-lampedusa", []),
    ("north-wire", "Chess olympiad opens in Chennai",
     "Players from 180 countries arrived in Chennai for the chess olympiad.", "chess-olympiad", []),
]  # fmt: skip


def _write(tmp_path: Path, rows: list[tuple[str, str, str, str, list[str]]]) -> tuple[Path, Path]:
    items, gold = tmp_path / "items.jsonl", tmp_path / "gold.jsonl"
    with items.open("w") as fi, gold.open("w") as fg:
        for n, (feed, title, summary, story, topics) in enumerate(rows):
            link = f"https://{feed}.example/{n}"
            when = (T0 + timedelta(minutes=10 * n)).isoformat()
            entry = {"feed": feed, "guid": link, "title": title, "link": link, "summary": summary}
            fi.write(json.dumps({**entry, "published": when, "language": "en"}) + "\n")
            fg.write(json.dumps({"guid": link, "story": story, "topics": topics}) + "\n")
    return items, gold


def test_bcubed_by_hand() -> None:
    # item 1: P 1/2 R 1; item 2: P 1/2 R 1/2; item 3: P 1 R 1/2.
    result = bcubed(["a", "a", "b"], ["x", "y", "y"])
    assert (result.precision, result.recall) == pytest.approx((2 / 3, 2 / 3))
    assert bcubed(["a", "b"], ["x", "y"]).f1 == 1.0


def test_corpus_entries_read_as_the_ingester_would_and_labels_must_line_up(tmp_path: Path) -> None:
    items, gold = _write(tmp_path, ROWS)
    corpus = read_corpus(items, gold)
    item = feed_item(corpus[0][0])
    assert item.summary.startswith("A ferry carrying 40 people sank off Lampedusa"), "markup removed"
    assert item.published == T0 and item.fetched > T0
    assert feed_item(corpus[0][0]).item_id == item.item_id
    gold.write_text(gold.read_text().replace("/0", "/9", 1))
    with pytest.raises(CorpusError, match="line 1"):
        read_corpus(items, gold)
    gold.write_text("")
    with pytest.raises(CorpusError, match="4 items but"):
        read_corpus(items, gold)


def test_replay_scores_copies_and_own_words_apart(tmp_path: Path) -> None:
    corpus = read_corpus(*_write(tmp_path, ROWS))
    entries = [(feed_item(e), g) for e, g in corpus]
    result = replay(PipelineState.configured(REPO / "deploy"), Classifier.from_dir(REPO / "deploy"), entries)
    stories = [r.story_id for r in result.items]
    assert stories[0] == stories[1] == stories[2] != stories[3]
    report = score(result)
    assert (report.pairs.true_pairs, report.pairs.copy_pairs) == (3, 1)
    assert report.pairs.own_words_recall == report.pairs.precision == report.bcubed.f1 == 1.0

    # The same items with the own-words report in a story of its own: only copies are joined.
    split = [Replayed(r.item, r.gold, "other" if n == 2 else r.story_id, None) for n, r in
             enumerate(result.items)]  # fmt: skip
    pairs = pairwise(split)
    assert (pairs.copy_recall, pairs.own_words_recall, pairs.recall) == (1.0, 0.0, pytest.approx(1 / 3))


def test_topics_are_scored_per_classified_article_on_its_own_labels(tmp_path: Path) -> None:
    corpus = read_corpus(*_write(tmp_path, ROWS))
    item = feed_item(corpus[0][0])
    found_labelled = Replayed(item, Gold("a", "s1", ("sanctions",)), "s1", None, ("sanctions",))
    missed = Replayed(item, Gold("b", "s1", ("sanctions", "leader_visit")), "s1", None, ())
    false = Replayed(item, Gold("c", "s2"), "s2", None, ("sanctions",))
    copy = Replayed(item, Gold("d", "s1", ("leader_visit",)), "s1", "url")  # dropped: never classified
    counts = topic_counts(Replay(items=[found_labelled, missed, false, copy]))
    assert sorted(counts) == ["leader_visit", "sanctions"]
    sanctions, visits = counts["sanctions"], counts["leader_visit"]
    assert (sanctions.true_positives, sanctions.false_positives, sanctions.false_negatives) == (1, 1, 1)
    assert (visits.true_positives, visits.false_positives, visits.false_negatives) == (0, 0, 1)
    assert (sanctions.precision, sanctions.recall) == (0.5, 0.5)


def test_eval_stories_prints_the_scores(tmp_path: Path) -> None:
    items, gold = _write(tmp_path, ROWS)
    rules = ["--rules-dir", str(REPO / "deploy")]
    out = CliRunner().invoke(app, ["eval", "stories", "--items", str(items), "--gold", str(gold), *rules])
    assert out.exit_code == 0, out.output
    assert "B-cubed      P 1.000  R 1.000  F1 1.000" in out.output
    assert "topic " not in out.output, "no topic found or labelled: no topic line"
    labelled = [(*row[:4], ["sanctions"]) if n == 3 else row for n, row in enumerate(ROWS)]
    items, gold = _write(tmp_path, labelled)
    out = CliRunner().invoke(app, ["eval", "stories", "--items", str(items), "--gold", str(gold), *rules])
    assert (
        "topic        sanctions          P —     R 0.00  (articles: found 0, right 0, missed 1)" in out.output
    )
    missing = CliRunner().invoke(app, ["eval", "stories", "--items", "/nonexistent", "--gold", str(gold)])
    assert missing.exit_code == 1
    assert "cannot read the corpus" in missing.output


@pytest.mark.skipif(not DEV_DAY.is_dir(), reason="../shared/corpora/news-day-2023-09-13 is not here")
def test_the_development_day_stays_above_what_text_clustering_alone_gave() -> None:
    """Session 4 measured text-only clustering at B-cubed F1 0.778 and own-words pair recall 0.072 on this
    day (bench/RESULTS.md); event clustering must not fall back towards that."""
    corpus = read_corpus(DEV_DAY / "items.jsonl", DEV_DAY / "gold.jsonl")
    entries = [(feed_item(e), g) for e, g in corpus]
    deploy = REPO / "deploy"
    report = score(replay(PipelineState.configured(deploy), Classifier.from_dir(deploy), entries))
    assert report.bcubed.f1 >= 0.82
    assert report.pairs.own_words_recall >= 0.45
