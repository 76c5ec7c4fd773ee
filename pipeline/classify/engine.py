"""The classifier: rule packs, gazetteer and modality compiled once, applied to one article at a time.

Each document is tokenised once and scanned once, with one index per language holding the rule terms,
gazetteer aliases and vetoes, and modality cues on separate channels.

The document modality is that of the primary topic: a topic triggered in the title if any (news
headlines name the main event), then the higher score.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from pipeline.classify.actors import Actor, ActorMatcher
from pipeline.classify.limits import TEXT_CHARS, TITLE_CHARS, clipped, head
from pipeline.classify.match import Hit, PhraseIndex
from pipeline.classify.modality import ModalityDetector
from pipeline.classify.rules import RuleSet, TopicMatch, load_rules
from pipeline.classify.text import Tokens, tokenize
from pipeline.classify.yamlfile import read_yaml
from schemas.gazetteer import Gazetteer


@dataclass(frozen=True, slots=True)
class Classification:
    topics: tuple[TopicMatch, ...]
    actors: tuple[Actor, ...]
    modality: str | None
    explanation: dict[str, Any]

    @property
    def topic_ids(self) -> list[str]:
        return [t.topic for t in self.topics]

    @property
    def actor_ids(self) -> list[str]:
        return [a.id for a in self.actors]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data (no internal token hits)."""
        return {
            "topics": [_plain(t, skip="triggers") for t in self.topics],
            "actors": [_plain(a) for a in self.actors],
            "modality": self.modality,
            "explanation": self.explanation,
        }


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}
"""A dataclass type's field names, None for other types: looked up once per type, since `_plain` runs
for every value of every classification."""


def _plain(value: Any, skip: str = "") -> Any:
    """What `dataclasses.asdict` makes of a result, with named tuples (spans) as dicts too; the leaves are
    immutable scalars, so nothing needs `asdict`'s deep copies. `skip` names a field to leave out."""
    kind = type(value)
    if kind not in _FIELD_NAMES:
        _FIELD_NAMES[kind] = (
            tuple(f.name for f in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None
        )
    names = _FIELD_NAMES[kind]
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names if name != skip}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {name: _plain(item) for name, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    return value


def load_gazetteer(directory: Path) -> Gazetteer:
    """Merge every YAML file of the directory (countries.yaml, people.yaml, ...) into one gazetteer."""
    merged: dict[str, list[Any]] = {"countries": [], "people": [], "languages": []}
    for path in sorted(directory.glob("*.yaml")):
        data = read_yaml(path) or {}
        for key, items in data.items():
            if key not in merged:
                raise ValueError(f"{path}: unknown section {key!r}")
            merged[key].extend(items)
    return Gazetteer.model_validate(merged)


# The channels of the one index each document is scanned with.
_TERMS, _ALIASES, _VETOES, _CUES = range(4)
_field_of = attrgetter("field")


class Classifier:
    def __init__(self, rules: RuleSet, actors: ActorMatcher, modality: ModalityDetector) -> None:
        self.rules = rules
        self.actors = actors
        self.modality = modality
        languages = rules.patterns.keys() | actors.local_patterns.keys()
        self._indexes = {language: self._index(language) for language in sorted(languages)}
        self._no_rules = self._index(None)

    def _index(self, language: str | None) -> PhraseIndex:
        """Rule terms, cues and local aliases of one language (none for a language without either) with
        the gazetteer's aliases for every language."""
        index = PhraseIndex(channels=4)
        for channel, patterns in (
            (_TERMS, self.rules.patterns.get(language, []) if language else []),
            (_ALIASES, self.actors.patterns_for(language)),
            (_VETOES, self.actors.veto_patterns),
            (_CUES, self.modality.patterns.get(language, []) if language else []),
        ):
            for pattern in patterns:
                index.add(pattern.text, pattern.owner, pattern.case_sensitive, channel)
        return index

    @classmethod
    def from_dir(cls, root: Path) -> Classifier:
        """`root` holds `rules/*.yaml` and `gazetteer/*.yaml` (the repository's `deploy/`)."""
        rules = RuleSet(load_rules((root / "rules").glob("*.yaml")))
        return cls(rules, ActorMatcher(load_gazetteer(root / "gazetteer")), ModalityDetector())

    def _scan(self, title: str, text: str, language: str) -> tuple[tuple[Tokens, ...], list[list[Hit]]]:
        """Tokenise both fields once, as far as limits.py lets an article cost, and find every pattern of
        every component in one pass."""
        fields = (tokenize(head(title, TITLE_CHARS), "title"), tokenize(head(text, TEXT_CHARS), "text"))
        return fields, self._indexes.get(language, self._no_rules).find(fields)

    def explain(self, title: str, text: str, language: str = "en") -> list[TopicMatch]:
        """Every rule with a term hit, matched or not, for debugging a rule against a text."""
        fields, hits = self._scan(title, text, language)
        actor_hits = self.actors.by_type(self.actors.match(hits[_ALIASES], hits[_VETOES]))
        return self.rules.evaluate(hits[_TERMS], fields, actor_hits, self.actors.countries, explain_all=True)

    def classify(self, title: str, text: str, language: str = "en") -> Classification:
        fields, hits = self._scan(title, text, language)
        actor_hits = self.actors.match(hits[_ALIASES], hits[_VETOES])
        by_type = self.actors.by_type(actor_hits)
        topics = self.rules.evaluate(hits[_TERMS], fields, by_type, self.actors.countries)
        if topics:
            cues = self.modality.cues(hits[_CUES], fields)
            topics = [t.with_modality(*self.modality.assess(t.triggers, cues)) for t in topics]
        primary = min(topics, key=lambda t: (0 not in map(_field_of, t.triggers), -t.score), default=None)
        explanation: dict[str, Any] = {
            "language": language,
            "primary_topic": primary.topic if primary else None,
            "modality_from": "primary topic: title-triggered first, then highest score",
        }
        if unread := clipped({t.field: t.text for t in fields}, {"title": title, "text": text}):
            explanation["read"] = unread
        return Classification(
            tuple(topics),
            tuple(self.actors.actors(actor_hits, fields)),
            primary.modality if primary else None,
            explanation,
        )
