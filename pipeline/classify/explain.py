"""The explanation records every result carries: spans that slice the input, and score contributions."""

from __future__ import annotations

from typing import NamedTuple

from pipeline.classify.match import Hit
from pipeline.classify.text import Tokens


class Span(NamedTuple):
    """`field` is 'title' or 'text'; `<field>[start:end] == text`.

    A named tuple rather than a frozen dataclass: every hit of a matched rule gets one, and a tuple is
    built at C speed, several times faster."""

    field: str
    start: int
    end: int
    text: str
    token: int


_new_tuple = tuple.__new__


def span_of(hit: Hit, fields: tuple[Tokens, ...]) -> Span:
    _, field, first, last = hit
    tokens = fields[field]
    start, end = tokens.starts[first], tokens.ends[last - 1]
    return _new_tuple(Span, (tokens.field, start, end, tokens.text[start:end], first))


class Contribution(NamedTuple):
    """One addend of a score: a matched term (counted once however often it occurs) or a proximity bonus.
    A named tuple, like `Span`."""

    source: str
    label: str
    weight: float
    spans: tuple[Span, ...]
    spans_not_shown: int = 0
