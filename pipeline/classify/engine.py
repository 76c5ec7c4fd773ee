"""The classifier: rule packs, gazetteer and modality compiled once, applied to one article at a time.

The document modality is that of the primary topic: a topic triggered in the title if any (news
headlines name the main event), then the higher score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.classify.actors import Actor, ActorMatcher
from pipeline.classify.modality import ModalityDetector
from pipeline.classify.rules import RuleSet, TopicMatch, load_rules
from pipeline.classify.text import tokenize
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
            "topics": [_topic_dict(t) for t in self.topics],
            "actors": [asdict(a) for a in self.actors],
            "modality": self.modality,
            "explanation": self.explanation,
        }


def _topic_dict(topic: TopicMatch) -> dict[str, Any]:
    data = asdict(topic)
    del data["triggers"]
    return data


def load_gazetteer(directory: Path) -> Gazetteer:
    """Merge every YAML file of the directory (countries.yaml, people.yaml, ...) into one gazetteer."""
    merged: dict[str, list[Any]] = {"countries": [], "people": []}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, items in data.items():
            if key not in merged:
                raise ValueError(f"{path}: unknown section {key!r}")
            merged[key].extend(items)
    return Gazetteer.model_validate(merged)


class Classifier:
    def __init__(self, rules: RuleSet, actors: ActorMatcher, modality: ModalityDetector) -> None:
        self.rules = rules
        self.actors = actors
        self.modality = modality

    @classmethod
    def from_dir(cls, root: Path) -> Classifier:
        """`root` holds `rules/*.yaml` and `gazetteer/*.yaml` (the repository's `deploy/`)."""
        rules = RuleSet(load_rules((root / "rules").glob("*.yaml")))
        return cls(rules, ActorMatcher(load_gazetteer(root / "gazetteer")), ModalityDetector())

    def explain(self, title: str, text: str, language: str = "en") -> list[TopicMatch]:
        """Every rule with a term hit, matched or not, for debugging a rule against a text."""
        fields = (tokenize(title, "title"), tokenize(text, "text"))
        actor_hits = self.actors.by_type(self.actors.match(fields))
        return self.rules.evaluate(fields, language, actor_hits, explain_all=True)

    def classify(self, title: str, text: str, language: str = "en") -> Classification:
        fields = (tokenize(title, "title"), tokenize(text, "text"))
        actor_hits = self.actors.match(fields)
        topics = self.rules.evaluate(fields, language, self.actors.by_type(actor_hits))
        if topics:
            cues = self.modality.cues(fields, language)
            topics = [t.with_modality(*self.modality.assess(t.triggers, cues, fields)) for t in topics]
        primary = min(
            topics, key=lambda t: (not any(h.field == 0 for h in t.triggers), -t.score), default=None
        )
        explanation = {
            "language": language,
            "primary_topic": primary.topic if primary else None,
            "modality_from": "primary topic: title-triggered first, then highest score",
        }
        return Classification(
            tuple(topics),
            tuple(self.actors.actors(actor_hits, fields)),
            primary.modality if primary else None,
            explanation,
        )
