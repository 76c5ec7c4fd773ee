"""Gazetteer matching: countries and people found by name, demonym, metonym, alias or transliteration.

Overlapping hits keep the longest one starting first, so 'North Korean' is not also read as 'Korean', and
'Kim Jong Un' inside a longer alias counts once. A country's `veto` terms within `veto_window` tokens
cancel its hit ('Georgia' near 'Atlanta'); case-sensitive aliases keep 'Chad' and 'Turkey' from matching
'chad' and 'turkey'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.classify.explain import Span, span_of
from pipeline.classify.match import Hit, Pattern
from pipeline.classify.text import Tokens
from schemas.gazetteer import Gazetteer
from schemas.rules import TermSpec


@dataclass(frozen=True, slots=True)
class Mention:
    span: Span
    kind: str
    alias: str


@dataclass(frozen=True, slots=True)
class Actor:
    """`iso3` is the country's code, or for a person the code of the country they are attributed to."""

    id: str
    name: str
    type: str
    iso3: str
    role: str | None
    mentions: tuple[Mention, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    name: str
    type: str
    iso3: str
    role: str | None
    veto_window: int


@dataclass(frozen=True, slots=True)
class _Alias:
    entry: int
    kind: str
    pattern: str


class ActorMatcher:
    def __init__(self, gazetteer: Gazetteer) -> None:
        self._entries: list[_Entry] = []
        self._aliases: list[_Alias] = []
        self.patterns: list[Pattern] = []
        """Every alias pattern and variant, registered under the alias's index."""
        self.veto_patterns: list[Pattern] = []
        """Every veto pattern and variant, registered under its country's entry index."""
        for country in gazetteer.countries:
            entry = self._add_entry(
                _Entry(country.iso3, country.name, "country", country.iso3, None, country.veto_window)
            )
            self._add_aliases(entry, "name", country.names)
            self._add_aliases(entry, "demonym", country.demonyms)
            self._add_aliases(entry, "metonym", country.metonyms)
            for term in country.veto:
                for pattern in (term.pattern, *term.variants):
                    self.veto_patterns.append(Pattern(pattern, entry, term.case_sensitive))
        for person in gazetteer.people:
            entry = self._add_entry(
                _Entry(f"person:{person.id}", person.name, "person", person.country, person.role, 0)
            )
            self._add_aliases(entry, "alias", person.aliases)
        self.local_patterns: dict[str, list[Pattern]] = {}
        """Per language, the alias patterns that apply only to its documents."""
        entries = {entry.id: index for index, entry in enumerate(self._entries)}
        for local in gazetteer.languages:
            patterns = self.local_patterns.setdefault(local.language, [])
            for names in local.countries:
                entry = entries[names.iso3]
                self._add_aliases(entry, "name", names.names, patterns)
                self._add_aliases(entry, "demonym", names.demonyms, patterns)
                self._add_aliases(entry, "metonym", names.metonyms, patterns)
            for aliases in local.people:
                self._add_aliases(entries[f"person:{aliases.id}"], "alias", aliases.aliases, patterns)

    def _add_entry(self, entry: _Entry) -> int:
        self._entries.append(entry)
        return len(self._entries) - 1

    def _add_aliases(
        self, entry: int, kind: str, terms: tuple[TermSpec, ...], patterns: list[Pattern] | None = None
    ) -> None:
        """Register the aliases on `patterns`, by default those of every language."""
        target = self.patterns if patterns is None else patterns
        for term in terms:
            owner = len(self._aliases)
            self._aliases.append(_Alias(entry, kind, term.pattern))
            for pattern in (term.pattern, *term.variants):
                target.append(Pattern(pattern, owner, term.case_sensitive))

    def patterns_for(self, language: str | None) -> list[Pattern]:
        """The alias patterns a document in `language` is scanned for: every language's, then its own."""
        return self.patterns + self.local_patterns.get(language, []) if language else self.patterns

    def match(self, hits: list[Hit], vetoes: list[Hit]) -> list[Hit]:
        """Hits of `patterns` after overlap resolution and `veto_patterns` hits; `owner` indexes this
        matcher's aliases."""
        hits = _longest_first(hits)
        return self._without_vetoed(hits, vetoes) if vetoes else hits

    def by_type(self, hits: list[Hit]) -> dict[str, list[Hit]]:
        """Hits as the `@person`/`@country` lists rules can reference."""
        lists: dict[str, list[Hit]] = {"@person": [], "@country": []}
        for hit in hits:
            lists["@" + self._entries[self._aliases[hit.owner].entry].type].append(hit)
        return lists

    def countries(self, hits: Iterable[Hit]) -> int:
        """How many countries the hits' actors span, a person counting as theirs (a rule's `parties`)."""
        return len({self._entries[self._aliases[hit.owner].entry].iso3 for hit in hits})

    def actors(self, hits: list[Hit], fields: tuple[Tokens, ...]) -> list[Actor]:
        """Actors in order of first mention (title before text)."""
        mentions: dict[int, list[Mention]] = {}
        for hit in hits:
            alias = self._aliases[hit.owner]
            mention = Mention(span_of(hit, fields), alias.kind, alias.pattern)
            mentions.setdefault(alias.entry, []).append(mention)
        actors = []
        for entry_index, found in mentions.items():
            entry = self._entries[entry_index]
            actors.append(Actor(entry.id, entry.name, entry.type, entry.iso3, entry.role, tuple(found)))
        return actors

    def _without_vetoed(self, hits: list[Hit], vetoes: list[Hit]) -> list[Hit]:
        kept = []
        for hit in hits:
            entry = self._aliases[hit.owner].entry
            window = self._entries[entry].veto_window
            if not any(
                v.owner == entry and v.field == hit.field and abs(v.first - hit.first) <= window
                for v in vetoes
            ):
                kept.append(hit)
        return kept


def _longest_first(hits: list[Hit]) -> list[Hit]:
    kept: list[Hit] = []
    covered: dict[int, int] = {}
    for hit in sorted(hits, key=lambda h: (h.field, h.first, h.first - h.last)):
        if hit.first >= covered.get(hit.field, 0):
            kept.append(hit)
            covered[hit.field] = hit.last
    return kept
