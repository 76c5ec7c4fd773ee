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


# Modality: three scored pairs, one gold modality whose topic is missed, one whose topic is predicted
# without a modality, and one predicted topic without a gold modality: every count below is known by hand.
MODALITY_ITEMS = [
    GoldItem(
        "a",
        "",
        "x",
        "en",
        frozenset({"arms_transfer", "sanctions"}),
        {"arms_transfer": "actual", "sanctions": "planned_or_possible"},
    ),
    GoldItem("b", "", "x", "en", frozenset({"leader_visit"}), {"leader_visit": "denied"}),
    GoldItem("c", "", "x", "en", frozenset({"weapons_test"}), {"weapons_test": "reported"}),
    GoldItem("d", "", "x", "en", frozenset({"leader_visit"})),
    GoldItem("e", "", "x", "en", frozenset({"sanctions"}), {"sanctions": "actual"}),
]
MODALITY_ANSWERS: dict[str, dict[str, str | None]] = {
    "a": {"arms_transfer": "actual", "sanctions": "reported"},
    "b": {"leader_visit": "planned_or_possible"},
    "c": {},
    "d": {"leader_visit": "actual"},
    "e": {"sanctions": None},
}


def test_modality_is_scored_on_topics_gold_and_predicted() -> None:
    report = evaluate(MODALITY_ITEMS, lambda item: MODALITY_ANSWERS[item.id])
    score = report.modality
    assert score is not None
    assert [(p.item.id, p.topic) for p in score.pairs] == [
        ("a", "arms_transfer"),
        ("a", "sanctions"),
        ("b", "leader_visit"),
    ]
    assert score.unscored == 2  # c's weapons_test was missed; e's sanctions came without a modality
    assert next(t for t in report.topics if t.topic == "sanctions") == TopicScore("sanctions", 2, 0, 0)
    assert score.accuracy == pytest.approx(1 / 3)
    assert score.count("actual", "actual") == 1
    assert score.count("planned_or_possible", "reported") == 1
    assert score.count("denied", "planned_or_possible") == 1
    assert score.count("reported", "reported") == 0
    assert (score.precision("actual"), score.recall("actual")) == (1.0, 1.0)
    assert (score.precision("reported"), score.recall("reported")) == (0.0, None)
    assert (score.precision("planned_or_possible"), score.recall("planned_or_possible")) == (0.0, 0.0)
    assert (score.precision("denied"), score.recall("denied")) == (None, 0.0)
    assert [(p.item.id, p.topic, p.gold, p.predicted) for p in score.errors] == [
        ("a", "sanctions", "planned_or_possible", "reported"),
        ("b", "leader_visit", "denied", "planned_or_possible"),
    ]


def test_topics_only_gold_has_no_modality_score_and_topic_lists_still_predict() -> None:
    assert evaluate(ITEMS, _predict).modality is None
    assert evaluate(ITEMS, lambda item: MODALITY_ANSWERS["a"]).modality is None
    # A predictor of bare topics judges no modality: every gold modality goes unscored.
    score = evaluate(MODALITY_ITEMS, lambda item: list(MODALITY_ANSWERS[item.id])).modality
    assert score is not None and (score.pairs, score.unscored, score.accuracy) == ((), 5, None)


def test_read_gold_takes_a_modality_per_gold_topic() -> None:
    line = {
        "id": "a",
        "text": "x",
        "topics": ["sanctions", "arms_transfer"],
        "modality": {"sanctions": "denied"},
    }
    [item] = read_gold([json.dumps(line)])
    assert item.modality == {"sanctions": "denied"}
    assert item.topics == frozenset({"sanctions", "arms_transfer"})


@pytest.mark.parametrize(
    ("modality", "message"),
    [
        ({"leader_visit": "actual"}, "line 1: ValueError: modality for 'leader_visit', which is not among"),
        (
            {"sanctions": "confirmed"},
            "line 1: ValueError: modality 'confirmed' for 'sanctions' is none of actual",
        ),
        (["sanctions", "actual"], "line 1: TypeError: 'modality' must map"),
    ],
)
def test_read_gold_names_a_bad_modality(modality: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_gold([json.dumps({"id": "a", "text": "x", "topics": ["sanctions"], "modality": modality})])
