"""Every rule pack's own examples: positives must match the rule's topic, negatives must not.

This is what `watchfloor rules test` runs; a failure prints the rule's score arithmetic and clauses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.classify import Classifier
from pipeline.classify.rules import load_rules
from schemas.rules import Example

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = load_rules((DEPLOY / "rules").glob("*.yaml"))
CASES = [
    pytest.param(rule.id, positive, example, id=f"{rule.id}-{'pos' if positive else 'neg'}{i}")
    for rule in RULES
    for positive, examples in ((True, rule.examples.positive), (False, rule.examples.negative))
    for i, example in enumerate(examples)
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_dir(DEPLOY)


def _explain(classifier: Classifier, topic: str, example: Example) -> str:
    for match in classifier.explain(example.title, example.text, example.language):
        if match.topic == topic:
            return f"{match.arithmetic}; clauses: {[(c.kind, c.lists, c.satisfied) for c in match.clauses]}"
    return "no term of the rule occurs"


@pytest.mark.parametrize(("topic", "positive", "example"), CASES)
def test_rule_example(classifier: Classifier, topic: str, positive: bool, example: Example) -> None:
    result = classifier.classify(example.title, example.text, example.language)
    matched = {t.topic: t for t in result.topics}
    assert (topic in matched) == positive, _explain(classifier, topic, example)
    if positive and example.modality is not None:
        assert matched[topic].modality == example.modality.value, matched[topic].modality_explanation


def test_the_shipped_packs_cover_the_required_topics_with_enough_examples() -> None:
    ids = {rule.id for rule in RULES}
    assert {"arms_transfer", "leader_visit", "sanctions", "weapons_test", "military_exercise"} <= ids
    for rule in RULES:
        assert len(rule.examples.positive) >= 4, rule.id
        assert len(rule.examples.negative) >= 4, rule.id
