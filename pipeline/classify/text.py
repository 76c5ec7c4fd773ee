"""Tokenisation, done once per field and shared by rules, gazetteer and modality.

Tokens are `\\w+` runs (so Cyrillic and Hangul pass through) split at hyphens, so 'Jong-un' matches
'Jong Un'; sentence punctuation is a token of its own and a possessive 's is a separate token 's'. Patterns
are tokenised the same way, so 'U.S.' and "People's" match themselves. Each token keeps its character
offsets into the original string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate

# Words (an apostrophe joins "don't", not a possessive "'s") and sentence punctuation, which is kept as a
# token so phrases never match across a full stop. Splitting with a group keeps the gaps, whose lengths
# give every offset without a per-token Python step.
_SPLIT = re.compile(r"(\w+(?:['\u2019](?!s\b)\w+)*|[.!?\u3002])")
_PUNCT = frozenset(".!?\u3002")
# A full stop after these is not a sentence end ('Mr. Putin', 'Gen. Kim'); single capitals are initials.
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "gen", "lt", "col", "maj", "sgt", "st", "vs", "jr"})
_PATTERN_WORD = re.compile(r"(\w+(?:['\u2019](?!s\b)\w+)*|[.!?\u3002])([*~]?)")


class Tokens:
    """One field's tokens as parallel lists: the hot loops index lists, not per-token objects."""

    __slots__ = ("_sentences", "ends", "field", "norms", "starts", "surfaces", "text")

    def __init__(self, text: str, field: str = "text") -> None:
        parts = _SPLIT.split(text)
        bounds = list(accumulate(map(len, parts), initial=0))
        self.field = field
        self.text = text
        self.surfaces: list[str] = parts[1::2]
        self.norms: list[str] = list(map(str.lower, self.surfaces))
        self.starts: list[int] = bounds[1:-1:2]
        self.ends: list[int] = bounds[2::2]
        self._sentences: list[int] | None = None

    @property
    def sentences(self) -> list[int]:
        """Sentence number of each token, computed only when modality needs it."""
        if self._sentences is None:
            self._sentences = _sentence_ids(self.surfaces)
        return self._sentences


def _sentence_ids(surfaces: list[str]) -> list[int]:
    ids: list[int] = []
    sentence = 0
    previous = ""
    for surface in surfaces:
        ids.append(sentence)
        if surface in _PUNCT and (surface != "." or _ends_sentence(previous)):
            sentence += 1
        previous = surface
    return ids


def _ends_sentence(previous: str) -> bool:
    return previous.lower() not in _ABBREVIATIONS and not (len(previous) == 1 and previous.isupper())


def tokenize(text: str, field: str = "text") -> Tokens:
    return Tokens(text, field)


@dataclass(frozen=True, slots=True)
class Piece:
    """One word of a pattern: its accepted forms (all `~` inflections, or one prefix), lower-cased and as
    written (for case-sensitive patterns)."""

    norms: tuple[str, ...]
    surfaces: tuple[str, ...]
    prefix: bool

    @property
    def key(self) -> str:
        """The shortest form: the prefix itself, or the base word of an inflected one."""
        return min(self.norms, key=len)


def parse_pattern(pattern: str) -> tuple[Piece, ...]:
    """A pattern's token sequence, each word with the forms it accepts."""
    pieces = []
    for word, mark in _PATTERN_WORD.findall(pattern):
        forms = english_inflections(word) if mark == "~" else [word]
        unique = tuple(dict.fromkeys(forms))
        pieces.append(Piece(tuple(dict.fromkeys(f.lower() for f in unique)), unique, mark == "*"))
    return tuple(pieces)


def english_inflections(word: str) -> list[str]:
    """Regular English noun/verb forms: plural or 3rd person, past, -ing; over-generating is harmless."""
    lower = word.lower()
    forms = [word]
    consonant_y = lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou"
    stem = word[:-1] if consonant_y else word
    if consonant_y:
        forms += [stem + "ies", stem + "ied"]
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        forms += [word + "es", word + "ed"]
    elif lower.endswith("e"):
        forms += [word + "s", word + "d"]
    else:
        forms += [word + "s", word + "ed"]
    forms.append((word[:-1] if lower.endswith("e") and not lower.endswith("ee") else word) + "ing")
    if _short_cvc(lower):
        forms += [word + word[-1] + "ed", word + word[-1] + "ing"]
    return forms


def _short_cvc(word: str) -> bool:
    """'ship' -> 'shipped': a final consonant after a single vowel doubles (over-generated for 'visit')."""
    vowels = "aeiou"
    return (
        len(word) >= 3
        and word[-1] not in vowels + "wxy"
        and word[-2] in vowels
        and word[-3] not in vowels
        and word.isascii()
    )
