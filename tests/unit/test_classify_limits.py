"""What one article may cost the classifier: the text it reads, and the size of its explanation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.cli import app
from pipeline.articles import STORED_TEXT_CHARS, analyse, article_doc
from pipeline.classify import Classifier
from pipeline.classify.limits import CUES_SHOWN, SPANS_SHOWN, TEXT_CHARS, head
from schemas.feed import SourceTier
from schemas.item import FeedItem, ItemSource

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SENTENCE = "Kim may travel to Russia for arms talks with Putin, and the sale of artillery shells may follow. "


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_dir(DEPLOY)


def test_head_ends_at_a_word_boundary_within_the_limit() -> None:
    text = "alpha beta gamma delta"
    assert head(text, 100) == text
    assert head(text, 12) == "alpha beta"  # not "alpha beta g"
    assert head("x" * 50, 10) == "x" * 10  # no space: cut hard


def test_a_repetitive_article_lists_a_few_spans_per_clause_and_counts_the_rest(
    classifier: Classifier,
) -> None:
    repeats = 200
    result = classifier.classify("Kim may visit Russia", SENTENCE * repeats)
    assert result.topics
    for topic in result.to_dict()["topics"]:
        for part in (*topic["contributions"], *topic["clauses"]):
            assert len(part["spans"]) <= SPANS_SHOWN
        cues = topic["modality_explanation"]["cues"]
        assert len(cues) <= CUES_SHOWN
        assert topic["modality_explanation"]["cues_not_shown"] > 0
    visit = next(t for t in result.to_dict()["topics"] if t["topic"] == "leader_visit")
    travel = next(c for c in visit["contributions"] if c["label"] == "travel:travel~")
    assert len(travel["spans"]) + travel["spans_not_shown"] == repeats


def test_only_the_start_of_a_huge_text_is_read_and_the_explanation_says_so(classifier: Classifier) -> None:
    text = SENTENCE * (TEXT_CHARS // len(SENTENCE) * 4)
    result = classifier.classify("", text)
    spans = [s for t in result.to_dict()["topics"] for c in t["contributions"] for s in c["spans"]]
    assert spans and all(s["end"] <= TEXT_CHARS for s in spans)
    assert result.explanation["read"]["text"].endswith(f"of {len(text)} characters")


def test_a_10_mb_article_through_classify_prints_a_bounded_line(tmp_path: Path) -> None:
    article = tmp_path / "huge.jsonl"
    text = SENTENCE * (10_000_000 // len(SENTENCE))
    article.write_text(json.dumps({"id": "huge", "title": "Kim may visit Russia", "text": text}) + "\n")
    result = CliRunner().invoke(app, ["classify"], input=article.read_text())
    assert result.exit_code == 0, result.output[:500]
    (line,) = result.output.splitlines()
    out = json.loads(line)
    assert out["id"] == "huge" and out["topics"]
    assert len(line) < 64_000, "one article's explanation must stay small whatever its size"


def test_classify_skips_a_deeply_nested_line_and_answers_the_rest() -> None:
    good = json.dumps({"id": "ok", "title": "Kim Jong Un may travel to Russia", "text": "Talks with Putin."})
    bombs = "[" * 100_000 + "]" * 100_000
    result = CliRunner().invoke(app, ["classify"], input=f"{bombs}\n{good}\n")
    assert result.exit_code == 1
    assert "line 1: skipped" in result.stderr and "recursion" in result.stderr
    assert "Traceback" not in result.output
    assert json.loads(result.stdout.splitlines()[-1])["id"] == "ok"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"text": None}, "text"),
        ({"text": 5}, "text"),
        ({"title": ["x"], "text": "a"}, "title"),
        ({"text": "a", "language": None}, "language"),
        ({"title": "no text"}, "text"),
    ],
)
def test_classify_rejects_wrong_types_instead_of_coercing_them(line: dict[str, object], field: str) -> None:
    result = CliRunner().invoke(app, ["classify"], input=json.dumps(line) + "\n")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"line 1: skipped: invalid input line: {field}:"), result.stderr


def test_an_article_document_keeps_a_bounded_text_and_says_what_it_clipped(classifier: Classifier) -> None:
    now = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
    content = SENTENCE * (50 * STORED_TEXT_CHARS // len(SENTENCE))
    item = FeedItem(
        item_id="huge",
        id_basis="guid",
        feed_id="wire-a",
        url="https://wire.example/huge",
        title="Kim may visit Russia",
        summary="Kim may visit Russia.",
        content=content,
        language="en",
        fetched=now,
        source=ItemSource(feed_id="wire-a", name="Wire A", tier=SourceTier.WIRE, domain="wire.example"),
        content_hash="h",
    )
    doc = article_doc(item, analyse(classifier, item), "st-x", syndicated=False).to_es()
    assert len(json.dumps(doc)) < 2 * STORED_TEXT_CHARS
    assert content.startswith(doc["content"]) and doc["summary"] == item.summary
    assert doc["explanation"]["stored"] == {
        "content": f"first {len(doc['content'])} of {len(content)} characters"
    }
