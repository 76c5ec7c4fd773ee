"""Every rule pack's own examples: positives must match the rule's topic, negatives must not.

This is what `watchfloor rules test` runs; a failure prints the rule's score arithmetic and clauses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.classify import Classifier
from pipeline.classify.examples import ExampleCase, cases, failure
from pipeline.classify.rules import load_rules

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = load_rules((DEPLOY / "rules").glob("*.yaml"))
CASES = [pytest.param(case, id=case.name) for case in cases(RULES)]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_dir(DEPLOY)


@pytest.mark.parametrize("case", CASES)
def test_rule_example(classifier: Classifier, case: ExampleCase) -> None:
    assert failure(classifier, case) is None, failure(classifier, case)


def test_the_shipped_packs_cover_the_required_topics_with_enough_examples() -> None:
    ids = {rule.id for rule in RULES}
    assert {"arms_transfer", "leader_visit", "sanctions", "weapons_test", "military_exercise"} <= ids
    for rule in RULES:
        assert len(rule.examples.positive) >= 4, rule.id
        assert len(rule.examples.negative) >= 4, rule.id
