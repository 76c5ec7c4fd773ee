"""Compile rule packs into per-language term patterns and evaluate a document's term hits against them.

Score = the weight of every distinct term that occurs (once, however often: repetition is not evidence)
+ the weight of every satisfied proximity clause. A rule matches when its score reaches the threshold,
every `all` list and at least one `any` list hit, no `none` list hits, every required clause holds, and
a rule between states (`parties`) names enough countries or shows several parties or strong wording.

A stretch of text is evidence once: a hit inside a longer hit of the same rule (or on the same tokens
as a heavier one) scores nothing, so "prime minister" is not also a "minister", nor "arms talks" also
"arms". Such hits still count for groups and proximity clauses.

Before scoring, hits of `named` lists are kept only where a name follows (and extended over it), hits
of `titles` lists that end a name ("Travis King") drop, and a hit of a `mask_sentence` list cancels the
rule's other hits, actors included, in its sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import chain, repeat
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from pipeline.classify.explain import Contribution, Span, span_of
from pipeline.classify.limits import SPANS_SHOWN, shown
from pipeline.classify.match import Hit, Pattern
from pipeline.classify.names import name_end
from pipeline.classify.text import Tokens
from pipeline.classify.yamlfile import read_yaml
from pipeline.textnorm import title_case
from schemas.rules import ACTOR_LISTS, Groups, Near, Rule

CountryCount = Callable[[Iterable[Hit]], int]
"""How many countries some actor hits span, a person counting as theirs (`ActorMatcher.countries`)."""


class Clause(NamedTuple):
    """One group or proximity condition of a rule and whether this document satisfies it (a named tuple,
    like `Span`, as each matched rule carries several)."""

    kind: str
    lists: tuple[str, ...]
    satisfied: bool
    detail: str = ""
    spans: tuple[Span, ...] = ()
    spans_not_shown: int = 0


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
        """A copy with the modality set; built directly, as `dataclasses.replace` costs several times more
        and runs for every matched topic."""
        return TopicMatch(
            self.topic, self.category, self.score, self.threshold, self.matched, self.contributions,
            self.clauses, self.arithmetic, modality, explanation, self.triggers,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Plan:
    """What evaluating a rule needs besides its hits, made once per rule set: its group lists as sets,
    tested against a document's lists in C, and its proximity clauses."""

    all: frozenset[str]
    any: frozenset[str]
    none: frozenset[str]
    near: tuple[_NearRef, ...]
    sentence_masks: bool


@dataclass(frozen=True, slots=True)
class _NearRef:
    """A proximity clause with the texts its explanation shows, made once per rule set."""

    clause: Near
    lists: tuple[str, ...]
    detail: str
    addend: str


@dataclass(frozen=True, slots=True)
class _TermRef:
    rule: int
    list_name: str
    label: str
    weight: float
    addend: str
    """How the term reads in a score's arithmetic."""
    mask: bool
    """In a `mask` list: cancels overlapping hits, scores nothing."""
    veto: bool
    """In a `none` list: vetoes the rule, scores nothing."""
    sentence_mask: bool
    """In a `mask_sentence` list: cancels the rule's hits in its sentence, scores nothing."""
    named: bool
    """In a `named` list: a hit counts only with a name after it, and covers the name."""


def load_rules(paths: Iterable[Path]) -> list[Rule]:
    """Load and validate rule files, naming the file in any error."""
    rules: list[Rule] = []
    for path in sorted(paths):
        try:
            rules.append(Rule.model_validate(read_yaml(path)))
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
        self._plans = [
            _Plan(
                frozenset(rule.groups.all),
                frozenset(rule.groups.any),
                frozenset(rule.groups.none),
                tuple(_near_ref(clause) for clause in rule.near),
                bool(rule.groups.mask_sentence),
            )
            for rule in self.rules
        ]
        self.patterns: dict[str, list[Pattern]] = {}
        """Per language, every term pattern and variant, registered under its term's index."""
        for rule_index, rule in enumerate(self.rules):
            for list_name, per_language in rule.terms.items():
                groups = rule.groups
                mask, veto = list_name in groups.mask, list_name in groups.none
                sentence_mask, named = list_name in groups.mask_sentence, list_name in groups.named
                default = rule.weights.get(list_name, 1.0)
                for code, terms in per_language.items():
                    languages = rule.languages if code == "*" else (code,)
                    for term in terms:
                        owner = len(self._terms)
                        label = f"{list_name}:{term.pattern}"
                        weight = default if term.weight is None else term.weight
                        addend = f"{weight:g} [{label}]"
                        self._terms.append(
                            _TermRef(
                                rule_index, list_name, label, weight, addend, mask, veto, sentence_mask, named
                            )
                        )
                        for language in languages:
                            patterns = self.patterns.setdefault(language, [])
                            for pattern in (term.pattern, *term.variants):
                                patterns.append(Pattern(pattern, owner, term.case_sensitive))

    def evaluate(
        self,
        hits: list[Hit],
        fields: tuple[Tokens, ...],
        actor_hits: Mapping[str, list[Hit]],
        countries: CountryCount,
        explain_all: bool = False,
    ) -> list[TopicMatch]:
        """Matched topics, best score first; `explain_all` also returns rules that hit but did not match.

        `hits` are term hits in the document's language; `actor_hits` feeds the `@person`/`@country`
        lists from the gazetteer, and `countries` counts the countries of the actor hits a rule keeps.
        """
        by_term: dict[int, list[Hit]] = {}
        for hit in hits:
            by_term.setdefault(hit.owner, []).append(hit)
        per_rule: dict[int, dict[int, list[Hit]]] = {}
        for owner, term_hits in by_term.items():
            per_rule.setdefault(self._terms[owner].rule, {})[owner] = term_hits
        results = [
            self._evaluate(rule, owners, fields, actor_hits, countries=countries, explain_all=explain_all)
            for rule, owners in sorted(per_rule.items())
        ]
        return sorted((r for r in results if r is not None), key=lambda r: (-r.score, r.topic))

    def _evaluate(
        self,
        rule_index: int,
        owners: dict[int, list[Hit]],
        fields: tuple[Tokens, ...],
        actor_hits: Mapping[str, list[Hit]],
        *,
        countries: CountryCount,
        explain_all: bool,
    ) -> TopicMatch | None:
        """Score first, from hits alone; spans and clause texts only for a rule that is returned."""
        rule = self.rules[rule_index]
        groups = rule.groups
        terms = self._terms
        plan = self._plans[rule_index]
        owners, surnames = _titled(owners, groups.titles, terms, fields, actor_hits)
        voided: list[Hit] = []
        if plan.sentence_masks:
            owners, actor_hits, voided = _sentence_masked(owners, actor_hits, terms, fields)
        masks = (
            [h for owner, hits in owners.items() if terms[owner].mask for h in hits] if groups.mask else []
        )
        # Actor lists are only read, so they are shared, not copied; term lists are new lists.
        by_list: dict[str, list[Hit]] = {name: hits for name, hits in actor_hits.items() if hits}
        scored: list[tuple[_TermRef, list[Hit]]] = []
        for owner in sorted(owners):
            ref = terms[owner]
            if ref.mask:
                continue
            hits = owners[owner]
            if masks:
                hits = [h for h in hits if not any(_masked(h, m) for m in masks)]
                if not hits:
                    continue
            if ref.list_name in by_list:
                by_list[ref.list_name] += hits
            else:
                by_list[ref.list_name] = list(hits)
            if not ref.veto:
                scored.append((ref, hits))
        scored, covered = _longest_hits(scored)
        near = plan.near
        pairs = [_near_pair(n.clause, by_list, fields) for n in near]
        weights = [ref.weight for ref, _ in scored]
        weights += [n.clause.weight for n, pair in zip(near, pairs, strict=True) if pair and n.clause.weight]
        score = round(sum(weights), 6)
        present = by_list.keys()
        ok = (
            plan.all <= present
            and (not plan.any or not plan.any.isdisjoint(present))
            and plan.none.isdisjoint(present)
            and all(pair or not n.clause.required for n, pair in zip(near, pairs, strict=True))
        )
        parties = _parties(rule, countries, actor_hits, by_list, score=score, fields=fields)
        matched = ok and all(clause.satisfied for clause in parties) and score >= rule.threshold
        if not (matched or explain_all):
            return None
        contributions = [
            Contribution("term", ref.label, ref.weight, *_spans(hits, fields)) for ref, hits in scored
        ]
        addends = [ref.addend for ref, _ in scored]
        clauses = _group_clauses(rule, plan, by_list, fields)
        covered_lists = tuple(dict.fromkeys(terms[h.owner].list_name for h in covered))
        clauses += [
            *_cancel_clauses(
                groups,
                fields,
                masks=masks,
                voided=voided,
                covered=(covered_lists, covered),
                surnames=surnames,
            ),
            *parties,
        ]
        for proximity, pair in zip(near, pairs, strict=True):
            spans = _spans(pair, fields)[0] if pair else ()
            clauses.append(Clause("near", proximity.lists, pair is not None, proximity.detail, spans))
            if pair and proximity.clause.weight:
                contributions.append(Contribution("near", proximity.detail, proximity.clause.weight, spans))
                addends.append(proximity.addend)
        verdict = ">=" if score >= rule.threshold else "<"
        arithmetic = f"{' + '.join(addends) or '0'} = {score:g} {verdict} threshold {rule.threshold:g}"
        triggers = tuple(
            chain.from_iterable(
                hits for name, hits in by_list.items() if name not in groups.none and name not in ACTOR_LISTS
            )
        )
        return TopicMatch(
            rule.id, rule.category, score, rule.threshold, matched, tuple(contributions),
            tuple(clauses), arithmetic, triggers=triggers,
        )  # fmt: skip


def _parties(
    rule: Rule,
    count: CountryCount,
    actor_hits: Mapping[str, list[Hit]],
    by_list: Mapping[str, list[Hit]],
    *,
    score: float,
    fields: tuple[Tokens, ...],
) -> list[Clause]:
    """Whether a rule between states has its parties, as its one clause; none for other rules. The
    countries are counted from the actor hits the rule kept, as its proximity clauses see them; a
    titled name the gazetteer does not know ("President Lee Myung-bak") may be another country's, so
    it counts as one more, while a titled name it knows ("President Biden") is already counted, and a
    headline In Title Case names no one by its capitals ("Iran's President Has Changed the Subject")."""
    parties = rule.parties
    if parties is None:
        return []
    countries = count(chain.from_iterable(actor_hits.values()))
    persons = actor_hits.get("@person", ())
    titled = [hit for name in rule.groups.named for hit in by_list.get(name, ())]
    unknown = any(
        not any(_overlap(hit, person) for person in persons) and _cased(fields[hit.field]) for hit in titled
    )
    lists = parties.or_lists
    enough = countries + unknown >= parties.countries or score >= parties.or_score
    group = f", a hit of {', '.join(lists)}," if lists else ""
    lacking = " and a titled leader the gazetteer lacks" if unknown else ""
    detail = (
        f"{countries} {'country' if countries == 1 else 'countries'} among the actors{lacking}; needs "
        f"{parties.countries}{group} or a score of {parties.or_score:g} (has {score:g})"
    )
    return [Clause("parties", lists, enough or not set(lists).isdisjoint(by_list), detail)]


def _cased(tokens: Tokens) -> bool:
    """Whether capitals in this field can mark a name: not in a headline In Title Case."""
    return tokens.field != "title" or not title_case(tokens.surfaces)


def _overlap(a: Hit, b: Hit) -> bool:
    """Whether two hits share a token (of one field)."""
    return a.field == b.field and a.first < b.last and b.first < a.last


def _cancel_clauses(
    groups: Groups,
    fields: tuple[Tokens, ...],
    *,
    masks: list[Hit],
    voided: list[Hit],
    covered: tuple[tuple[str, ...], list[Hit]],
    surnames: list[Hit],
) -> list[Clause]:
    """The clauses that explain hits which score nothing: read as surnames, masked, in a masked sentence,
    or covered."""
    clauses = []
    if surnames:
        detail = "a title right after a capitalised word: part of a name"
        clauses.append(Clause("titles", groups.titles, True, detail, *_spans(surnames, fields)))
    if masks:
        clauses.append(
            Clause("mask", groups.mask, True, "overlapping hits cancelled", *_spans(masks, fields))
        )
    if voided:
        detail = "every hit in these sentences cancelled"
        clauses.append(Clause("mask_sentence", groups.mask_sentence, True, detail, *_spans(voided, fields)))
    lists, hits = covered
    if hits:
        clauses.append(
            Clause("overlap", lists, True, "inside a longer hit: scored once", *_spans(hits, fields))
        )
    return clauses


def _with_names(
    owners: dict[int, list[Hit]], terms: list[_TermRef], fields: tuple[Tokens, ...]
) -> dict[int, list[Hit]]:
    """`named` terms' hits that a name follows, each extended over the name; terms left without one drop."""
    if not any(terms[owner].named for owner in owners):
        return owners
    kept: dict[int, list[Hit]] = {}
    for owner, hits in owners.items():
        named = hits
        if terms[owner].named:
            named = [
                Hit(owner, field, first, end)
                for owner, field, first, last in hits
                if (end := name_end(fields[field], last)) > last
            ]
        if named:
            kept[owner] = named
    return kept


def _titled(
    spoken: dict[int, list[Hit]],
    titles: tuple[str, ...],
    terms: list[_TermRef],
    fields: tuple[Tokens, ...],
    actor_hits: Mapping[str, list[Hit]],
) -> tuple[dict[int, list[Hit]], list[Hit]]:
    """Titles read as titles, and the hits dropped as surnames (for the explanation): `named` ones only
    with the name after them (`_with_names`), and no `titles` hit that a capitalised word just before,
    covered by no actor or other hit, makes part of a name ('Travis King, U.S. soldier'), unless the field
    is In Title Case. Every hit as `spoken`, before `named` lists kept only those a name follows, covers
    its words: a titled phrase without a name ('the Chinese Foreign Minister arrived') still covers its
    first word."""
    owners = _with_names(spoken, terms, fields)
    if not titles or not any(terms[owner].list_name in titles for owner in owners):
        return owners, []
    covered = {(h.field, i) for hits in actor_hits.values() for h in hits for i in range(h.first, h.last)}
    for hits in chain(owners.values(), spoken.values()):
        covered.update((h.field, i) for h in hits for i in range(h.first, h.last))
    lower_words = cache(lambda: frozenset(w for f in fields for w in f.surfaces if w.islower()))
    kept: dict[int, list[Hit]] = {}
    surnames: list[Hit] = []
    for owner, hits in owners.items():
        titled = hits
        if terms[owner].list_name in titles:
            titled = []
            for h in hits:
                (surnames if _after_a_name(h, fields[h.field], covered, lower_words) else titled).append(h)
        if titled:
            kept[owner] = titled
    return kept, surnames


def _after_a_name(
    hit: Hit, tokens: Tokens, covered: set[tuple[int, int]], lower_words: Callable[[], frozenset[str]]
) -> bool:
    """Whether a capitalised word joined to the (capitalised) title by a space can be a first name: not
    where every word is capitalised (a headline In Title Case), nor a sentence's first word that the
    document also writes in lower case ('The King', 'Der König', 'Le Président'), whose capital says
    nothing either; a first name at a sentence's start ('Travis King crossed') still is one."""
    before = hit.first - 1
    if before < 0 or (hit.field, before) in covered:
        return False
    surfaces = tokens.surfaces
    if not (
        surfaces[hit.first][0].isupper()
        and surfaces[before][0].isupper()
        and not tokens.text[tokens.ends[before] : tokens.starts[hit.first]].strip(" ")
        and _cased(tokens)
    ):
        return False
    starts_sentence = before == 0 or tokens.sentences[before - 1] != tokens.sentences[before]
    return not starts_sentence or tokens.norms[before] not in lower_words()


def _sentence_masked(
    owners: dict[int, list[Hit]],
    actor_hits: Mapping[str, list[Hit]],
    terms: list[_TermRef],
    fields: tuple[Tokens, ...],
) -> tuple[dict[int, list[Hit]], Mapping[str, list[Hit]], list[Hit]]:
    """Term and actor hits outside the sentences of `mask_sentence` hits, and those mask hits."""
    voiding = [h for owner, hits in owners.items() if terms[owner].sentence_mask for h in hits]
    if not voiding:
        return owners, actor_hits, []
    void = {(h.field, fields[h.field].sentences[h.first]) for h in voiding}

    def outside(hits: list[Hit]) -> list[Hit]:
        return [h for h in hits if (h.field, fields[h.field].sentences[h.first]) not in void]

    kept = {
        owner: left
        for owner, hits in owners.items()
        if not terms[owner].sentence_mask and (left := outside(hits))
    }
    return kept, {name: outside(hits) for name, hits in actor_hits.items()}, voiding


def _longest_hits(
    scored: list[tuple[_TermRef, list[Hit]]],
) -> tuple[list[tuple[_TermRef, list[Hit]]], list[Hit]]:
    """The scored terms with only the hits no other scored hit covers, and the covered hits.

    Hits are ranked by field, start, length (longest first), weight (heaviest first) and term order; a
    hit is covered when an earlier-ranked one, which starts no later, ends no earlier. A term whose hits
    are all covered drops out of the score.
    """
    if len(scored) < 2:
        return scored, []
    ranked = sorted(
        ((hit, index) for index, (_, hits) in enumerate(scored) for hit in hits),
        key=lambda pair: (pair[0].field, pair[0].first, -pair[0].last, -scored[pair[1]][0].weight, pair[1]),
    )
    kept: dict[int, list[Hit]] = {}
    covered: list[Hit] = []
    field, reach = -1, -1
    for hit, index in ranked:
        if hit.field != field:
            field, reach = hit.field, -1
        if hit.last > reach:
            kept.setdefault(index, []).append(hit)
            reach = hit.last
        else:
            covered.append(hit)
    if not covered:
        return scored, []
    return [(scored[index][0], kept[index]) for index in sorted(kept)], covered


def _near_ref(clause: Near) -> _NearRef:
    detail = f"{'+'.join(clause.a)} within {clause.window} tokens of {'+'.join(clause.b)}"
    return _NearRef(clause, (*clause.a, *clause.b), detail, f"{clause.weight:g} [{detail}]")


def _spans(hits: Iterable[Hit], fields: tuple[Tokens, ...]) -> tuple[tuple[Span, ...], int]:
    """The first `SPANS_SHOWN` hits as spans, and how many more there were (limits.py)."""
    listed, more = shown(list(hits), SPANS_SHOWN)
    return tuple(map(span_of, listed, repeat(fields))), more


def _masked(hit: Hit, mask: Hit) -> bool:
    """A mask cancels hits it overlaps, except longer ones containing it: 'live-fire drill' survives
    the mask 'fire drill'."""
    if not _overlap(hit, mask):
        return False
    contains = hit.first <= mask.first and mask.last <= hit.last
    return not (contains and hit.last - hit.first > mask.last - mask.first)


def _group_clauses(
    rule: Rule, plan: _Plan, by_list: dict[str, list[Hit]], fields: tuple[Tokens, ...]
) -> list[Clause]:
    groups = rule.groups
    clauses: list[Clause] = []
    if groups.all:
        clauses.append(Clause("all", groups.all, plan.all <= by_list.keys()))
    if groups.any:
        clauses.append(Clause("any", groups.any, not plan.any.isdisjoint(by_list)))
    if groups.none:
        vetoes = _spans((h for name in groups.none for h in by_list.get(name, ())), fields)
        vetoed = bool(vetoes[0])
        clauses.append(Clause("none", groups.none, not vetoed, "vetoed" if vetoed else "", *vetoes))
    return clauses


def _near_pair(
    clause: Near, by_list: dict[str, list[Hit]], fields: tuple[Tokens, ...]
) -> tuple[Hit, Hit] | None:
    """The first a/b hit pair in one sentence of one field, not overlapping, with at most `window`
    tokens between them: words either side of a full stop are not each other's evidence ("Police
    released the suspect. Russian assets fell")."""
    b_hits = [h for name in clause.b for h in by_list.get(name, ())]
    if not b_hits:
        return None
    window, ordered = clause.window, clause.ordered
    for name in clause.a:
        for a in by_list.get(name, ()):
            _, field, first, last = a
            for b in b_hits:
                if (
                    b.field == field
                    and (
                        b.first - last <= window
                        if b.first >= last
                        else not ordered and 0 <= first - b.last <= window
                    )
                    and fields[field].sentences[first] == fields[field].sentences[b.first]
                ):
                    return a, b
    return None
