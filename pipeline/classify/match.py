"""One index over every pattern of the rules, gazetteer and modality cues, so a document is scanned once.

Each pattern is keyed by its anchor: its longest exact word (a prefix word only when it has no exact
one), so a phrase such as 'the Kremlin' is looked up at 'kremlin', not at every 'the'. Exact anchors sit
in one dict, prefixes in another probed at each prefix length in use. Each distinct token's candidates are
cached, so on a warm index a field costs one C-level map over its tokens, and Python code runs only at
tokens that anchor some pattern; the rest of a phrase is compared only around such an anchor.

Patterns are registered on a channel (rule terms, gazetteer aliases, ...) and hits come back per
channel, in the order each channel's own index would have produced them.
"""

from __future__ import annotations

from bisect import insort
from itertools import compress
from typing import NamedTuple

from pipeline.classify.text import Piece, Tokens, parse_pattern

_CACHE_LIMIT = 200_000


class Compiled(NamedTuple):
    """A registered pattern as the scan loop reads it (a tuple, unpacked in one step there)."""

    channel: int
    owner: int
    anchor: int
    size: int
    case_sensitive: bool
    checks: tuple[tuple[int, tuple[str, ...], bool], ...]
    """(offset from the anchor, accepted forms, is a prefix) of each word still to compare at a candidate:
    every other word, and the anchor itself only when case matters (candidates are found lower-cased).
    None left: being a candidate for the token is already a match."""


class Pattern(NamedTuple):
    """A pattern to register, for the `owner` (term, alias, cue) its hits report."""

    text: str
    owner: int
    case_sensitive: bool


class Hit(NamedTuple):
    """Tokens [first, last) of one field matched the pattern registered for `owner` (a tuple: documents
    produce many, and only their fields are ever read)."""

    owner: int
    field: int
    first: int
    last: int


# `tuple.__new__(Hit, values)` is what `Hit(...)` runs, minus its Python-level `__new__` wrapper.
_new_tuple = tuple.__new__


def _anchor(pieces: tuple[Piece, ...]) -> int:
    return max(range(len(pieces)), key=lambda i: (not pieces[i].prefix, len(pieces[i].key), -i))


def _compile(pattern: str, owner: int, case_sensitive: bool, channel: int) -> tuple[Compiled, Piece]:
    pieces = parse_pattern(pattern)
    anchor = _anchor(pieces)
    checks = tuple(
        (offset - anchor, piece.surfaces if case_sensitive else piece.norms, piece.prefix)
        for offset, piece in enumerate(pieces)
        if offset != anchor or case_sensitive
    )
    return Compiled(channel, owner, anchor, len(pieces), case_sensitive, checks), pieces[anchor]


class _Candidates(dict[str, tuple[Compiled, ...]]):
    """Per-token candidates, computed on first sight: a miss is the only lookup that runs Python code."""

    def __init__(self, index: PhraseIndex) -> None:
        super().__init__()
        self._index = index

    def __missing__(self, norm: str) -> tuple[Compiled, ...]:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        found = self[norm] = self._index.candidates(norm)
        return found


class PhraseIndex:
    def __init__(self, channels: int = 1) -> None:
        self.channels = channels
        self._exact: dict[str, list[Compiled]] = {}
        self._prefix: dict[str, list[Compiled]] = {}
        self._lengths: list[int] = []
        self._cache = _Candidates(self)

    def add(self, pattern: str, owner: int, case_sensitive: bool = False, channel: int = 0) -> None:
        if not 0 <= channel < self.channels:
            raise ValueError(f"channel {channel} out of range for {self.channels} channels")
        entry, anchor = _compile(pattern, owner, case_sensitive, channel)
        table = self._prefix if anchor.prefix else self._exact
        for form in anchor.norms:
            table.setdefault(form, []).append(entry)
            if anchor.prefix and len(form) not in self._lengths:
                insort(self._lengths, len(form))  # not re-sorted per pattern: 23,000 patterns at start-up
        self._cache.clear()

    def find(self, fields: tuple[Tokens, ...]) -> list[list[Hit]]:
        """Hits per channel, by field, then by anchor token, then in registration order."""
        found: list[list[Hit]] = [[] for _ in range(self.channels)]
        appends = [hits.append for hits in found]
        for field_index, tokens in enumerate(fields):
            norms = tokens.norms
            size = len(norms)
            candidates = list(map(self._cache.__getitem__, norms))
            for i in compress(range(size), candidates):
                for channel, owner, anchor, length, case_sensitive, checks in candidates[i]:
                    if not checks:
                        appends[channel](_new_tuple(Hit, (owner, field_index, i, i + 1)))
                        continue
                    first = i - anchor
                    if first < 0 or first + length > size:
                        continue
                    words = tokens.surfaces if case_sensitive else norms
                    for offset, forms, prefix in checks:
                        word = words[i + offset]
                        if not (word.startswith(forms) if prefix else word in forms):
                            break
                    else:
                        appends[channel](_new_tuple(Hit, (owner, field_index, first, first + length)))
        return found

    def candidates(self, norm: str) -> tuple[Compiled, ...]:
        """Entries whose anchor accepts the lower-cased token: exact ones first, then by prefix length."""
        found = list(self._exact.get(norm, ()))
        for length in self._lengths:
            if length > len(norm):
                break
            found += self._prefix.get(norm[:length], ())
        return tuple(found)
