"""The explanation records every result carries: spans that slice the input, and score contributions."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.classify.match import Hit
from pipeline.classify.text import Tokens


@dataclass(frozen=True, slots=True)
class Span:
    """`field` is 'title' or 'text'; `<field>[start:end] == text`."""

    field: str
    start: int
    end: int
    text: str
    token: int


def span_of(hit: Hit, fields: tuple[Tokens, ...]) -> Span:
    tokens = fields[hit.field]
    start, end = tokens.starts[hit.first], tokens.ends[hit.last - 1]
    return Span(tokens.field, start, end, tokens.text[start:end], hit.first)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One addend of a score: a matched term (counted once however often it occurs) or a proximity bonus."""

    source: str
    label: str
    weight: float
    spans: tuple[Span, ...]
