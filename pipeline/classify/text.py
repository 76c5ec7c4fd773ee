"""Tokenisation, done once per field and shared by rules, gazetteer and modality.

Tokens are `\\w+` runs (so Cyrillic and Hangul pass through) split at hyphens, so 'Jong-un' matches
'Jong Un'; sentence punctuation is a token of its own and a possessive 's is a separate token 's'. A French
elided article or pronoun is a token of its own too ("l'Ukraine" is "l'" and "Ukraine"), so a name or a
noun matches whatever article it has lost its vowel to. Patterns are tokenised the same way, so 'U.S.',
"People's" and "livraisons d'armes" match themselves, with either apostrophe. Each token keeps its
character offsets into the original string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate, repeat

# Words (an apostrophe joins "don't", not a possessive "'s") and sentence punctuation, which is kept as a
# token so phrases never match across a full stop. Splitting with a group keeps the gaps, whose lengths
# give every offset without a per-token Python step. Possessive quantifiers match the same tokens (nothing
# follows that could make the engine backtrack into them) without keeping backtracking state.
_SPLIT = re.compile(r"(\w++(?:['\u2019](?!s\b)\w++)*+|[.!?\u3002])")
# French elisions (l', d', qu', ...), tried first: only at the start of a word, since the word pattern
# consumes "aujourd'hui" and "don't" whole from their first letter. The extra alternative slows the split
# by a third, so it is used only for a text that `_may_elide`.
_ELIDING = "cdjlmnstCDJLMNST"
_ELISION = rf"(?:[{_ELIDING}]|[Qq]u)['\u2019](?=\w)"
_SPLIT_ELISIONS = re.compile(rf"({_ELISION}|\w++(?:['\u2019](?!s\b)\w++)*+|[.!?\u3002])")
_MARKS = ".!?\u3002"
_MEMO_LIMIT = 200_000
# A full stop after these is not a sentence end; nor after a single capital, an initial.
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "gen", "lt", "col", "maj", "sgt", "st", "vs", "jr"})
_PATTERN_WORD = re.compile(rf"({_ELISION}|\w+(?:['\u2019](?!s\b)\w+)*|[.!?\u3002])([*~]?)")
_APOSTROPHES = str.maketrans("'\u2019", "\u2019'")


class Tokens:
    """One field's tokens as parallel lists: the hot loops index lists, not per-token objects."""

    __slots__ = ("_sentences", "ends", "field", "norms", "starts", "surfaces", "text")

    def __init__(self, text: str, field: str = "text") -> None:
        parts = (_SPLIT_ELISIONS if _may_elide(text) else _SPLIT).split(text)
        bounds = list(accumulate(map(len, parts), initial=0))
        self.field = field
        self.text = text
        self.surfaces: list[str] = parts[1::2]
        self.norms: list[str] = list(map(_LOWER.__getitem__, self.surfaces))
        self.starts: list[int] = bounds[1:-1:2]
        self.ends: list[int] = bounds[2::2]
        self._sentences: list[int] | None = None

    @property
    def sentences(self) -> list[int]:
        """Sentence number of each token, computed only when modality needs it."""
        if self._sentences is None:
            self._sentences = _sentence_ids(self)
        return self._sentences


def _may_elide(text: str) -> bool:
    """Whether an apostrophe follows a lone eliding letter or 'qu': apostrophes are few and found in C, and
    a false positive only costs the slower split."""
    for mark in "'\u2019":
        i = text.find(mark, 1)
        while i > 0:
            lone = text[i - 1] in _ELIDING and (i == 1 or not text[i - 2].isalnum())
            if lone or text[i - 2 : i].lower() == "qu":
                return True
            i = text.find(mark, i + 1)
    return False


def _sentence_ids(tokens: Tokens) -> list[int]:
    """Sentence marks are located by C-level list searches, so only those tokens are visited in Python;
    each sentence's ids are then laid down in one go."""
    surfaces = tokens.surfaces
    ends: list[int] = []
    for mark in _MARKS:
        if mark not in tokens.text:
            continue
        i = -1
        for _ in range(surfaces.count(mark)):
            i = surfaces.index(mark, i + 1)
            if mark != "." or not i or _ENDS_SENTENCE[surfaces[i - 1]]:
                ends.append(i)
    ends.sort()
    ids: list[int] = []
    start = 0
    for sentence, end in enumerate(ends):
        ids += repeat(sentence, end + 1 - start)
        start = end + 1
    ids += repeat(len(ends), len(surfaces) - start)
    return ids


class _Lower(dict[str, str]):
    """Lower-cased words, memoised: most of an article's tokens are words seen before, and a shared norm
    string carries its hash into the pattern index lookups."""

    def __missing__(self, surface: str) -> str:
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        norm = self[surface] = surface.lower()
        return norm


class _EndsSentence(dict[str, bool]):
    """Whether a full stop after this token ends a sentence: not after an abbreviation ('Mr. Putin',
    'Gen. Kim') or an initial (a single capital). Memoised, since a few words precede most full stops."""

    def __missing__(self, previous: str) -> bool:
        if len(self) >= _MEMO_LIMIT:
            self.clear()
        ends = self[previous] = previous.lower() not in _ABBREVIATIONS and not (
            len(previous) == 1 and previous.isupper()
        )
        return ends


_LOWER = _Lower()
_ENDS_SENTENCE = _EndsSentence()


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
        forms += [form.translate(_APOSTROPHES) for form in forms if "'" in form or "\u2019" in form]
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
