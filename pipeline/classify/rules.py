"""Compile rule packs into one phrase index per language and evaluate them on a tokenised document.

Score = the weight of every distinct term that occurs (once, however often: repetition is not evidence)
+ the weight of every satisfied proximity clause. A rule matches when its score reaches the threshold,
every `all` list and at least one `any` list hit, no `none` list hits, and every required clause holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipeline.classify.explain import Contribution, Span, span_of
from pipeline.classify.match import Hit, PhraseIndex
from pipeline.classify.text import Tokens
from schemas.rules import ACTOR_LISTS, Near, Rule


@dataclass(frozen=True, slots=True)
class Clause:
    """One group or proximity condition of a rule and whether this document satisfies it."""

    kind: str
    lists: tuple[str, ...]
    satisfied: bool
    detail: str = ""
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicMatch:
    topic: str
    category: str
    score: float
    threshold: float
    matched: bool
    contributions: tuple[Contribution, ...]
    clauses: tuple[Clause, ...]
    arithmetic: str
    modality: str | None = None
    modality_explanation: dict[str, Any] = field(default_factory=dict)
    triggers: tuple[Hit, ...] = field(default=(), repr=False)

    def with_modality(self, modality: str, explanation: dict[str, Any]) -> TopicMatch:
        return replace(self, modality=modality, modality_explanation=explanation)


@dataclass(frozen=True, slots=True)
class _TermRef:
    rule: int
    list_name: str
    pattern: str
    weight: float


def load_rules(paths: Iterable[Path]) -> list[Rule]:
    """Load and validate rule files, naming the file in any error."""
    rules: list[Rule] = []
    for path in sorted(paths):
        try:
            rules.append(Rule.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))
        except (ValidationError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: {exc}") from exc
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate rule ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return rules


class RuleSet:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._terms: list[_TermRef] = []
        self._indexes: dict[str, PhraseIndex] = {}
        for rule_index, rule in enumerate(self.rules):
            for list_name, per_language in rule.terms.items():
                for code, terms in per_language.items():
                    languages = rule.languages if code == "*" else (code,)
                    for term in terms:
                        owner = len(self._terms)
                        self._terms.append(_TermRef(rule_index, list_name, term.pattern, term.weight))
                        for language in languages:
                            index = self._indexes.setdefault(language, PhraseIndex())
                            for pattern in (term.pattern, *term.variants):
                                index.add(pattern, owner, term.case_sensitive)

    def evaluate(
        self,
        fields: tuple[Tokens, ...],
        language: str,
        actor_hits: Mapping[str, list[Hit]] | None = None,
        explain_all: bool = False,
    ) -> list[TopicMatch]:
        """Matched topics, best score first; `explain_all` also returns rules that hit but did not match.

        `actor_hits` feeds the `@person`/`@country` lists from the gazetteer.
        """
        index = self._indexes.get(language)
        if index is None:
            return []
        per_rule: dict[int, dict[int, list[Hit]]] = {}
        for hit in index.find(fields):
            per_rule.setdefault(self._terms[hit.owner].rule, {}).setdefault(hit.owner, []).append(hit)
        results = [
            self._evaluate(rule, owners, fields, actor_hits or {})
            for rule, owners in sorted(per_rule.items())
        ]
        return sorted((r for r in results if explain_all or r.matched), key=lambda r: (-r.score, r.topic))

    def _evaluate(
        self,
        rule_index: int,
        owners: dict[int, list[Hit]],
        fields: tuple[Tokens, ...],
        actor_hits: Mapping[str, list[Hit]],
    ) -> TopicMatch:
        rule = self.rules[rule_index]
        masks = [
            h
            for owner, hits in owners.items()
            if self._terms[owner].list_name in rule.groups.mask
            for h in hits
        ]
        by_list: dict[str, list[Hit]] = {name: list(hits) for name, hits in actor_hits.items() if hits}
        contributions: list[Contribution] = []
        for owner in sorted(owners):
            ref = self._terms[owner]
            if ref.list_name in rule.groups.mask:
                continue
            hits = owners[owner]
            if masks:
                hits = [h for h in hits if not any(_masked(h, m) for m in masks)]
                if not hits:
                    continue
            by_list.setdefault(ref.list_name, []).extend(hits)
            if ref.list_name not in rule.groups.none:
                spans = tuple(span_of(h, fields) for h in hits)
                contributions.append(
                    Contribution("term", f"{ref.list_name}:{ref.pattern}", ref.weight, spans)
                )
        clauses = _group_clauses(rule, by_list, fields)
        if masks:
            spans = tuple(span_of(h, fields) for h in masks)
            clauses.append(Clause("mask", rule.groups.mask, True, "overlapping hits cancelled", spans))
        ok = all(c.satisfied for c in clauses)
        for clause in rule.near:
            pair = _near_pair(clause, by_list)
            spans = tuple(span_of(h, fields) for h in pair) if pair else ()
            detail = f"{'+'.join(clause.a)} within {clause.window} tokens of {'+'.join(clause.b)}"
            clauses.append(Clause("near", (*clause.a, *clause.b), pair is not None, detail, spans))
            if pair and clause.weight:
                contributions.append(Contribution("near", detail, clause.weight, spans))
            ok = ok and (pair is not None or not clause.required)
        score = round(sum(c.weight for c in contributions), 6)
        matched = ok and score >= rule.threshold
        terms = " + ".join(f"{c.weight:g} [{c.label}]" for c in contributions) or "0"
        verdict = ">=" if score >= rule.threshold else "<"
        arithmetic = f"{terms} = {score:g} {verdict} threshold {rule.threshold:g}"
        triggers = tuple(
            h
            for name, hits in by_list.items()
            if name not in rule.groups.none and name not in ACTOR_LISTS
            for h in hits
        )
        return TopicMatch(
            rule.id, rule.category, score, rule.threshold, matched, tuple(contributions),
            tuple(clauses), arithmetic, triggers=triggers,
        )  # fmt: skip


def _masked(hit: Hit, mask: Hit) -> bool:
    """A mask cancels hits it overlaps, except longer ones containing it: 'live-fire drill' survives
    the mask 'fire drill'."""
    if hit.field != mask.field or hit.last <= mask.first or mask.last <= hit.first:
        return False
    contains = hit.first <= mask.first and mask.last <= hit.last
    return not (contains and hit.last - hit.first > mask.last - mask.first)


def _group_clauses(rule: Rule, by_list: dict[str, list[Hit]], fields: tuple[Tokens, ...]) -> list[Clause]:
    groups = rule.groups
    clauses: list[Clause] = []
    if groups.all:
        clauses.append(Clause("all", groups.all, all(name in by_list for name in groups.all)))
    if groups.any:
        clauses.append(Clause("any", groups.any, any(name in by_list for name in groups.any)))
    if groups.none:
        vetoes = tuple(span_of(h, fields) for name in groups.none for h in by_list.get(name, ()))
        clauses.append(Clause("none", groups.none, not vetoes, "vetoed" if vetoes else "", vetoes))
    return clauses


def _near_pair(clause: Near, by_list: dict[str, list[Hit]]) -> tuple[Hit, Hit] | None:
    """The first a/b hit pair in one field, not overlapping, with at most `window` tokens between them."""
    a_hits = [h for name in clause.a for h in by_list.get(name, ())]
    b_hits = [h for name in clause.b for h in by_list.get(name, ())]
    for a in a_hits:
        for b in b_hits:
            if a.field != b.field:
                continue
            gap = b.first - a.last if b.first >= a.last else a.first - b.last
            if 0 <= gap <= clause.window:
                return a, b
    return None
