"""The topic backtest's scoring: counts, rates, macro-F1 and error lists, on hand-counted cases."""

from __future__ import annotations

import json

import pytest

from pipeline.classify.backtest import GoldItem, TopicScore, evaluate, read_gold


def _item(id_: str, *topics: str) -> GoldItem:
    return GoldItem(id_, "", f"text of {id_}", "en", frozenset(topics))


# Four articles; the classifier's answers are fixed by hand so every count below is known.
ITEMS = [
    _item("both", "arms_transfer", "leader_visit"),
    _item("visit", "leader_visit"),
    _item("arms", "arms_transfer"),
    _item("none"),
]
ANSWERS = {
    "both": ["arms_transfer"],
    "visit": ["leader_visit"],
    "arms": ["sanctions"],
    "none": ["leader_visit"],
}


def _predict(item: GoldItem) -> list[str]:
    return ANSWERS[item.id]


def test_counts_per_topic_and_rates() -> None:
    report = evaluate(ITEMS, _predict, ["arms_transfer", "leader_visit", "weapons_test"])
    by_topic = {t.topic: t for t in report.topics}
    assert [t.topic for t in report.topics] == ["arms_transfer", "leader_visit", "weapons_test", "sanctions"]
    assert by_topic["arms_transfer"] == TopicScore("arms_transfer", 1, 0, 1)
    assert by_topic["leader_visit"] == TopicScore("leader_visit", 1, 1, 1)
    assert by_topic["sanctions"] == TopicScore("sanctions", 0, 1, 0)
    arms = by_topic["arms_transfer"]
    assert (arms.precision, arms.recall, arms.f1) == (1.0, 0.5, pytest.approx(2 / 3))
    visit = by_topic["leader_visit"]
    assert (visit.precision, visit.recall, visit.f1) == (0.5, 0.5, 0.5)
    assert by_topic["sanctions"].precision == 0.0 and by_topic["sanctions"].recall is None


def test_a_topic_absent_from_gold_and_output_has_no_rates_and_no_weight_in_macro_f1() -> None:
    report = evaluate(ITEMS, _predict, ["weapons_test"])
    quiet = next(t for t in report.topics if t.topic == "weapons_test")
    assert (quiet.precision, quiet.recall, quiet.f1) == (None, None, None)
    # arms 2/3, visit 1/2, sanctions 0: weapons_test does not count as a perfect 1.
    assert report.macro_f1 == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)


def test_misses_and_false_alarms_list_the_articles() -> None:
    report = evaluate(ITEMS, _predict)
    assert [o.item.id for o in report.misses("leader_visit")] == ["both"]
    assert [o.item.id for o in report.false_alarms("leader_visit")] == ["none"]
    assert [o.item.id for o in report.misses("arms_transfer")] == ["arms"]
    assert [o.item.id for o in report.false_alarms("sanctions")] == ["arms"]
    assert report.false_alarms("arms_transfer") == []


def test_read_gold_takes_the_classify_contract_plus_topics() -> None:
    lines = [
        json.dumps({"id": "a", "title": "T", "text": "x", "language": "ru", "topics": ["sanctions"]}),
        "",
        json.dumps({"text": "y", "topics": []}),
    ]
    assert read_gold(lines) == [
        GoldItem("a", "T", "x", "ru", frozenset({"sanctions"})),
        GoldItem("line-3", "", "y", "en", frozenset()),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{broken", "line 2: JSONDecodeError"),
        (json.dumps({"id": "b", "text": "y"}), "line 2: KeyError"),
        (json.dumps({"id": "b", "text": "y", "topics": "sanctions"}), "line 2: TypeError"),
        (json.dumps({"id": "a", "text": "y", "topics": []}), "line 2: duplicate id 'a'"),
    ],
)
def test_read_gold_names_the_bad_line(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_gold([json.dumps({"id": "a", "text": "x", "topics": []}), line])
