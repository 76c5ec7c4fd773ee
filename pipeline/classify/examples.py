"""Each rule pack's own examples as checks: what `watchfloor rules test` and the unit tests both run."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.classify.engine import Classifier
from schemas.rules import Example, Rule


@dataclass(frozen=True)
class ExampleCase:
    topic: str
    positive: bool
    index: int
    example: Example

    @property
    def name(self) -> str:
        return f"{self.topic}-{'pos' if self.positive else 'neg'}{self.index}"


def cases(rules: list[Rule]) -> list[ExampleCase]:
    return [
        ExampleCase(rule.id, positive, i, example)
        for rule in rules
        for positive, examples in ((True, rule.examples.positive), (False, rule.examples.negative))
        for i, example in enumerate(examples)
    ]


def failure(classifier: Classifier, case: ExampleCase) -> str | None:
    """None when the example behaves as its rule says; else why not, with the score arithmetic."""
    ex = case.example
    matched = {t.topic: t for t in classifier.classify(ex.title, ex.text, ex.language).topics}
    if (case.topic in matched) != case.positive:
        for match in classifier.explain(ex.title, ex.text, ex.language):
            if match.topic == case.topic:
                clauses = [(c.kind, c.lists, c.satisfied) for c in match.clauses]
                return (
                    f"{'not matched' if case.positive else 'matched'}: {match.arithmetic}; clauses: {clauses}"
                )
        return "not matched: no term of the rule occurs"
    if case.positive and ex.modality is not None and matched[case.topic].modality != ex.modality.value:
        return f"modality {matched[case.topic].modality}, expected {ex.modality.value}"
    return None
