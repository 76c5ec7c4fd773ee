"""One index over every pattern of a rule set or gazetteer, so a document is scanned once.

Each pattern is keyed by its anchor: its longest exact word (a prefix word only when it has no exact
one), so a phrase such as 'the Kremlin' is looked up at 'kremlin', not at every 'the'. Exact anchors sit
in one dict, prefixes in another probed at each prefix length in use. Each distinct token's candidates are
cached, so on a warm index the per-token cost is one C-level dict lookup; the rest of a phrase is compared
only around an anchor hit.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.classify.text import Piece, Tokens, parse_pattern

_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Compiled:
    pieces: tuple[Piece, ...]
    anchor: int
    case_sensitive: bool
    owner: int
    single: bool = False
    """One case-insensitive word: being a candidate for the token is already a match."""


@dataclass(frozen=True, slots=True)
class Hit:
    """Tokens [first, last) of one field matched the pattern registered for `owner`."""

    owner: int
    field: int
    first: int
    last: int


def _anchor(pieces: tuple[Piece, ...]) -> int:
    return max(range(len(pieces)), key=lambda i: (not pieces[i].prefix, len(pieces[i].key), -i))


class PhraseIndex:
    def __init__(self) -> None:
        self._exact: dict[str, list[Compiled]] = {}
        self._prefix: dict[str, list[Compiled]] = {}
        self._lengths: list[int] = []
        self._cache: dict[str, tuple[Compiled, ...]] = {}

    def add(self, pattern: str, owner: int, case_sensitive: bool = False) -> None:
        pieces = parse_pattern(pattern)
        anchor = _anchor(pieces)
        entry = Compiled(pieces, anchor, case_sensitive, owner, len(pieces) == 1 and not case_sensitive)
        table = self._prefix if pieces[anchor].prefix else self._exact
        for form in pieces[anchor].norms:
            table.setdefault(form, []).append(entry)
        self._lengths = sorted({len(key) for key in self._prefix})
        self._cache.clear()

    def find(self, fields: tuple[Tokens, ...]) -> list[Hit]:
        hits: list[Hit] = []
        lookup = self._cache.get
        for field_index, tokens in enumerate(fields):
            norms = tokens.norms
            for i, cached in enumerate(map(lookup, norms)):
                for entry in self._candidates(norms[i]) if cached is None else cached:
                    if entry.single:
                        hits.append(Hit(entry.owner, field_index, i, i + 1))
                        continue
                    first = i - entry.anchor
                    if _matches(entry, tokens, first):
                        hits.append(Hit(entry.owner, field_index, first, first + len(entry.pieces)))
        return hits

    def _candidates(self, norm: str) -> tuple[Compiled, ...]:
        found = list(self._exact.get(norm, ()))
        for length in self._lengths:
            if length > len(norm):
                break
            found += self._prefix.get(norm[:length], ())
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        result = self._cache[norm] = tuple(found)
        return result


def _matches(entry: Compiled, tokens: Tokens, first: int) -> bool:
    pieces = entry.pieces
    if first < 0 or first + len(pieces) > len(tokens.norms):
        return False
    words = tokens.surfaces if entry.case_sensitive else tokens.norms
    for offset, piece in enumerate(pieces):
        word = words[first + offset]
        forms = piece.surfaces if entry.case_sensitive else piece.norms
        if not (word.startswith(forms) if piece.prefix else word in forms):
            return False
    return True
