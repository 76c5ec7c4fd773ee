"""Modality of an event from cue words in the sentences that carry its trigger terms.

Within one sentence, cues within `WINDOW` tokens of a trigger decide by precedence
denied > planned_or_possible > reported > actual: 'denied plans to visit' is a denial, 'reportedly
plans to visit' is a plan, and a sentence with no cue (plain past tense) is actual. Across sentences, each
trigger sentence votes with weight 3 in the title, 2 as the lead sentence and 1 elsewhere; the heaviest
class wins, ties going by the same precedence. News leads with its main event, so a headline and lead
saying 'may travel' outweigh a later 'the Kremlin declined to comment' and a background 'visited'.
'Declined to confirm/comment' counts as denied: the party the event concerns will not confirm it.
"""

from __future__ import annotations

from typing import Any

from pipeline.classify.match import Hit, PhraseIndex
from pipeline.classify.text import Tokens
from schemas.rules import Modality

WINDOW = 12
# 'May' is usually the month; only the lower-case modal verb is a cue.
_CASE_SENSITIVE = frozenset({"may"})
PRECEDENCE = (Modality.DENIED, Modality.PLANNED_OR_POSSIBLE, Modality.REPORTED, Modality.ACTUAL)
_CUED = PRECEDENCE[:3]

CUES: dict[str, dict[Modality, tuple[str, ...]]] = {
    "en": {
        Modality.DENIED: (
            "deny~",
            "denial*",
            "rejected",
            "dismissed",
            "refuted",
            "declined to confirm",
            "declined to comment",
            "refused to confirm",
            "refused to comment",
            "would not confirm",
            "did not confirm",
            "no plans",
            "no plan",
            "not true",
            "baseless",
            "groundless",
            "called off",
        ),
        Modality.PLANNED_OR_POSSIBLE: (
            "may",
            "might",
            "could",
            "would",
            "will",
            "plan~",
            "expected to",
            "expects to",
            "set to",
            "scheduled",
            "possible",
            "possibly",
            "potential*",
            "proposed",
            "upcoming",
            "considering",
            "intend~",
            "prepar~ to",
            "aims to",
            "next week",
            "next month",
            "later this",
            "likely",
            "is to",
            "are to",
        ),
        Modality.REPORTED: (
            "reportedly",
            "according to",
            "report~",
            "sources said",
            "citing",
            "alleged*",
            "claim~",
            "said to",
            "purported*",
            "unconfirmed",
            "rumour*",
            "rumor*",
        ),
    },
    "ru": {
        Modality.DENIED: ("опроверг*", "отрицает", "отрицают", "отказался комментировать", "не подтвердил*"),
        Modality.PLANNED_OR_POSSIBLE: (
            "может",
            "могут",
            "планир*",
            "ожида*",
            "намерен*",
            "собира*",
            "возможн*",
            "предстоящ*",
            "будет",
        ),
        Modality.REPORTED: ("по данным", "сообща*", "по сообщениям", "якобы", "как сообщается"),
    },
    "ko": {
        Modality.DENIED: ("부인*", "부정*", "사실무근*", "확인하지"),
        Modality.PLANNED_OR_POSSIBLE: ("예정*", "계획*", "가능성*", "전망*", "검토*", "방문할", "수"),
        Modality.REPORTED: ("보도*", "따르면", "전해졌다", "알려졌다"),
    },
}


class ModalityDetector:
    def __init__(self, cues: dict[str, dict[Modality, tuple[str, ...]]] = CUES) -> None:
        self._classes: list[Modality] = []
        self._labels: list[str] = []
        self._indexes: dict[str, PhraseIndex] = {}
        for language, classes in cues.items():
            index = self._indexes[language] = PhraseIndex()
            for modality, patterns in classes.items():
                for pattern in patterns:
                    index.add(pattern, len(self._classes), pattern in _CASE_SENSITIVE)
                    self._classes.append(modality)
                    self._labels.append(pattern)

    def cues(self, fields: tuple[Tokens, ...], language: str) -> dict[tuple[int, int], list[Hit]]:
        """Every cue in the document by (field, sentence), found once and shared by all topics."""
        index = self._indexes.get(language)
        by_sentence: dict[tuple[int, int], list[Hit]] = {}
        for cue in index.find(fields) if index else ():
            by_sentence.setdefault((cue.field, fields[cue.field].sentences[cue.first]), []).append(cue)
        return by_sentence

    def assess(
        self, triggers: tuple[Hit, ...], cues: dict[tuple[int, int], list[Hit]], fields: tuple[Tokens, ...]
    ) -> tuple[str, dict[str, Any]]:
        found: dict[tuple[int, int], set[Modality]] = {}
        evidence: dict[tuple[int, int], dict[str, Any]] = {}
        for trigger in triggers:
            tokens = fields[trigger.field]
            key = (trigger.field, tokens.sentences[trigger.first])
            classes = found.setdefault(key, set())
            for cue in cues.get(key, ()):
                gap = cue.first - trigger.last if cue.first >= trigger.last else trigger.first - cue.last
                if 0 <= gap <= WINDOW:
                    classes.add(self._classes[cue.owner])
                    evidence[(cue.field, cue.first)] = self._evidence(cue, tokens)
        votes = dict.fromkeys(PRECEDENCE, 0)
        for (field_index, sentence), classes in found.items():
            weight = 3 if fields[field_index].field == "title" else (2 if sentence == 0 else 1)
            votes[next((m for m in _CUED if m in classes), Modality.ACTUAL)] += weight
        winner = max(PRECEDENCE, key=lambda m: (votes[m], -PRECEDENCE.index(m)))
        explanation = {
            "votes": {m.value: v for m, v in votes.items() if v},
            "cues": [evidence[k] for k in sorted(evidence)],
            "rule": _RULE,
        }
        return winner.value, explanation

    def _evidence(self, cue: Hit, tokens: Tokens) -> dict[str, Any]:
        start, end = tokens.starts[cue.first], tokens.ends[cue.last - 1]
        return {
            "cue": self._labels[cue.owner],
            "modality": self._classes[cue.owner].value,
            "field": tokens.field,
            "start": start,
            "end": end,
            "text": tokens.text[start:end],
        }


_RULE = (
    "per trigger sentence: denied > planned_or_possible > reported > actual (no cue); "
    "votes: title 3, lead sentence 2, others 1; ties by the same precedence"
)
