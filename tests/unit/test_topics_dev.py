"""The shipped rules against the topic development set (bench/data/topics-dev.jsonl): issue G's targets.

A rule change that costs a topic recall or precision on the set fails here, naming the misses and false
alarms; `watchfloor eval topics --gold bench/data/topics-dev.jsonl --show-errors N` shows their arithmetic.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.classify import Classifier
from pipeline.classify.backtest import GoldItem, Report, evaluate, read_gold

ROOT = Path(__file__).resolve().parents[2]
MIN_PRECISION = 0.92
MIN_RECALL = 0.85
TOPICS = ["arms_transfer", "leader_visit", "sanctions", "weapons_test", "military_exercise"]


@pytest.fixture(scope="module")
def report() -> Report:
    classifier = Classifier.from_dir(ROOT / "deploy")
    items = read_gold((ROOT / "bench" / "data" / "topics-dev.jsonl").read_text(encoding="utf-8").splitlines())

    def predict(item: GoldItem) -> list[str]:
        return classifier.classify(item.title, item.text, item.language).topic_ids

    return evaluate(items, predict, TOPICS)


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_meets_the_precision_and_recall_targets(report: Report, topic: str) -> None:
    score = next(t for t in report.topics if t.topic == topic)
    assert score.gold >= 40, "too few positives to measure"
    missed = [o.item.id for o in report.misses(topic)]
    alarms = [o.item.id for o in report.false_alarms(topic)]
    assert score.recall is not None and score.recall >= MIN_RECALL, f"recall {score.recall:.2f}: {missed}"
    assert score.precision is not None and score.precision >= MIN_PRECISION, (
        f"precision {score.precision:.2f}: {alarms}"
    )
