"""A topic rule pack: weighted term lists, all/any/none groups and proximity clauses, validated on load.

A pattern is a word or phrase. A word may end in `*` (prefix: `missile*`, `путин*`, `방문*`) or `~`
(English regular inflections: `supply~` -> supply, supplies, supplied, supplying); `variants` lists
irregular forms that count as the same term. Language keys are ISO 639-1 codes or `*` (every language).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_LANG = re.compile(r"^([a-z]{2}|\*)$")
_WORD = re.compile(r"^\w+(?:['\u2019]\w+)*[*~]?$")


class Modality(StrEnum):
    """How the text presents the event: it happened, may happen, is denied, or is only reported."""

    ACTUAL = "actual"
    PLANNED_OR_POSSIBLE = "planned_or_possible"
    DENIED = "denied"
    REPORTED = "reported"


def _term_shorthand(value: Any) -> Any:
    """A bare string in YAML is a term of weight 1."""
    return {"pattern": value} if isinstance(value, str) else value


class TermSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str
    variants: tuple[str, ...] = ()
    weight: float | None = Field(
        default=None, gt=0, description="Else the rule's weight for the list, else 1."
    )
    case_sensitive: bool = Field(default=False, description="Match the pattern's capitalisation exactly.")

    @field_validator("pattern")
    @classmethod
    def _pattern_words(cls, value: str) -> str:
        check_pattern(value)
        return value

    @field_validator("variants")
    @classmethod
    def _variant_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for variant in value:
            check_pattern(variant)
        return value


def check_pattern(pattern: str) -> None:
    """Reject patterns the matcher would silently mis-read, e.g. a `*` in the middle of a word."""
    words = pattern.replace("-", " ").replace(".", " ").split()
    if not words:
        raise ValueError("a pattern needs at least one word")
    for word in words:
        if not _WORD.match(word):
            raise ValueError(f"bad pattern word {word!r}: letters/digits, optionally ending in * or ~")


# `json_schema_input_type`: the JSON Schema (validation mode) accepts what the file may hold, the
# shorthand string as well as the full mapping; validation itself is unchanged.
Term = Annotated[TermSpec, BeforeValidator(_term_shorthand, json_schema_input_type=str | TermSpec)]


# Lists fed by the gazetteer instead of terms: usable in groups and `near`, never scored as terms.
ACTOR_LISTS = frozenset({"@person", "@country"})


class Groups(BaseModel):
    """`all`: every list must hit; `any`: at least one must; `none`: a hit in any of them vetoes the rule.

    `mask`: hits of these lists cancel the other lists' hits they overlap and score nothing, so an idiom
    ('open arms', 'company president') removes one reading without vetoing the whole document.
    `mask_sentence`: hits of these lists cancel every hit of the rule in their sentence, actors included,
    and score nothing: a sentence about a domestic meeting or an air strike is no evidence, while the
    rest of a long article still is.
    `named`: hits of these lists count only where a capitalised name follows, and then cover it
    ('President Cyril Ramaphosa'): a leader the gazetteer does not know is still a named leader.
    `titles`: hits of these lists are titles, and a capitalised word right before one that no actor and
    no other hit of the rule covers makes it a surname, which drops ('Travis King', 'Erik Prince'); not
    in a headline In Title Case, nor a sentence's first word the document also writes in lower case
    ('The King'), whose capitals say nothing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    mask: tuple[str, ...] = ()
    mask_sentence: tuple[str, ...] = ()
    named: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()


class Parties(BaseModel):
    """A topic between states: a document whose actors span fewer than `countries` countries (a person
    counts as their country) matches only if a hit of `or_lists` shows several parties ('EU leaders')
    or its score reaches `or_score`. A leader named near a travel word is a visit only when someone
    or somewhere of another country is named too, or the wording is strong ('state visit', 'held talks
    with his counterpart'): Biden's stop at a picket line and Trump's rally are not."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    countries: int = Field(ge=2)
    or_score: float = Field(gt=0)
    or_lists: tuple[str, ...] = ()


class Near(BaseModel):
    """A hit from lists `a` within `window` tokens of a hit from lists `b` (same field) adds `weight`;
    `ordered`: only where the `a` hit comes first ('Indian prime minister', not 'minister flew to India')."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    a: tuple[str, ...] = Field(min_length=1)
    b: tuple[str, ...] = Field(min_length=1)
    window: int = Field(ge=1, le=100)
    weight: float = Field(default=0.0, ge=0)
    required: bool = Field(default=False, description="The rule cannot match unless this clause holds.")
    ordered: bool = Field(default=False, description="Only an `a` hit before a `b` hit counts.")


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    title: str = ""
    language: str = "en"
    modality: Modality | None = None


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    positive: tuple[Example, ...] = Field(min_length=1)
    negative: tuple[Example, ...] = Field(min_length=1)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="The topic this rule assigns, e.g. 'arms_transfer'.")
    description: str
    category: str
    threshold: float = Field(gt=0, description="The score (term and proximity weights) needed to match.")
    alert_weight: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Base severity of an alert on this topic, before actor, "
        "corroboration and novelty factors (pipeline/scoring.py).",
    )
    languages: tuple[str, ...] = Field(min_length=1)
    terms: dict[str, dict[str, tuple[Term, ...]]] = Field(min_length=1)
    weights: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict,
        description="Weight of a term list's terms that give none of their own (else 1): context words "
        "such as weapon nouns can weigh little, so that only their combination reaches the threshold.",
    )
    groups: Groups = Groups()
    near: tuple[Near, ...] = ()
    parties: Parties | None = None
    examples: Examples

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("rule id must be a lower-case slug such as 'arms_transfer'")
        return value

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not _LANG.match(code) or code == "*":
                raise ValueError(f"language {code!r} must be an ISO 639-1 code such as 'en'")
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> Rule:
        for name, per_language in self.terms.items():
            if name.startswith("@"):
                raise ValueError(f"term list {name!r}: names starting with '@' are reserved for actor lists")
            for code in per_language:
                if code != "*" and code not in self.languages:
                    raise ValueError(f"term list {name!r} has language {code!r} not in the rule's languages")
        groups = self.groups
        referenced = [*groups.all, *groups.any, *groups.none, *groups.mask, *groups.mask_sentence]
        referenced += [*groups.named, *groups.titles, *self.weights]
        referenced += self.parties.or_lists if self.parties else ()
        for clause in self.near:
            referenced += [*clause.a, *clause.b]
        unknown = sorted(set(referenced) - set(self.terms) - ACTOR_LISTS)
        if unknown:
            raise ValueError(f"groups/near/weights reference undefined term lists: {unknown}")
        for example in (*self.examples.positive, *self.examples.negative):
            if example.language not in self.languages:
                raise ValueError(f"example language {example.language!r} is not in the rule's languages")
        return self
