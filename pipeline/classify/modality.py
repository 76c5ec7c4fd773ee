"""Modality of an event from cue words in the sentences that carry its trigger terms.

Within one sentence, cues within `WINDOW` tokens of a trigger decide by precedence
denied > planned_or_possible > reported > actual: 'denied plans to visit' is a denial, 'reportedly
plans to visit' is a plan, and a sentence with no cue (plain past tense) is actual. Across sentences, each
trigger sentence votes with weight 3 in the title, 2 as the lead sentence and 1 elsewhere; the heaviest
class wins, ties going by the same precedence. News leads with its main event, so a headline and lead
saying 'may travel' outweigh a later 'the Kremlin declined to comment' and a background 'visited'.
A sentence with no cue votes actual at half its weight (`UNCUED`; a headline at 0.7, `TITLE_UNCUED`):
'actual' is what a sentence says when it says nothing else, which is weaker than a hedge an analyst would
read. So an article that hedges its lead ('contemplates the possibility of arms talks') and its later
mentions ('the possible meeting', 'remain uncertain') stays planned, though its background recalls a past
visit or two. A cue may overlap its trigger (headline style's "Kim to visit Russia", read in titles only:
`HEADLINE_CUES`).
'Declined to confirm/comment' counts as denied: the party the event concerns will not confirm it.
"""

from __future__ import annotations

from typing import Any

from pipeline.classify.limits import CUES_SHOWN, shown
from pipeline.classify.match import Hit, Pattern
from pipeline.classify.text import Tokens
from schemas.rules import Modality

WINDOW = 12
UNCUED = 0.5
TITLE_UNCUED = 0.7
"""A headline that states the event plainly ("Putin and Kim Jong Un meet in Russia") is the outlet's own
summary: it outweighs one hedged lead sentence (2.1 against 2), not a hedged lead and a hedged later one."""
# 'May' is usually the month; only the lower-case modal verb is a cue.
_CASE_SENSITIVE = frozenset({"may"})
PRECEDENCE = (Modality.DENIED, Modality.PLANNED_OR_POSSIBLE, Modality.REPORTED, Modality.ACTUAL)
_VALUES = tuple(m.value for m in PRECEDENCE)
_ACTUAL = PRECEDENCE.index(Modality.ACTUAL)

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
            "postponed indefinitely",
            "indefinitely postponed",
            "call~ off",
            "cancel~",
            "cancell*",
            "scrapped",
            "shelved",
            "rule~ out",
            "ruled out",
            "untrue",
            "will not attend",
            "won't attend",
        ),
        Modality.PLANNED_OR_POSSIBLE: (
            "may",
            "might",
            "could",
            "would",
            "will",
            "plan to",
            "plans to",
            "plans for",
            "plan for",
            "planned",
            "planning",
            "possibilit*",
            "contemplat*",
            "speculat*",
            "uncertain",
            "unclear",
            "undisclosed",
            "weighs",
            "weighing",
            "mull~",
            "in talks",
            "seek~ to",
            "hope~ to",
            "if",
            "unless",
            "expected",
            "expects to",
            "is due",
            "are due",
            "set to",
            "scheduled",
            "possible",
            "possibly",
            "potential*",
            "proposed",
            "upcoming",
            "invited",
            "invites",
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
            "sources told",
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
    "pl": {
        Modality.DENIED: (
            "zaprzecz*",
            "zdementowa*",
            "dementuj*",
            "nie potwierdzi*",
            "nie potwierdza*",
            "odmówi*",
            "nieprawd*",
            "bezpodstawn*",
            "odwołan*",
            "odwoła*",
        ),
        Modality.PLANNED_OR_POSSIBLE: (
            "może",
            "mogą",
            "mógłby",
            "mogłaby",
            "mogłoby",
            "mogliby",
            "planuj*",
            "planowan*",
            "plan*",
            "zamierza*",
            "zapowiedzia*",
            "zapowiad*",
            "spodziewa*",
            "oczekuj*",
            "prawdopodobn*",
            "możliw*",
            "ewentualn*",
            "potencjaln*",
            "rozważa*",
            "przygotowuj*",
            "nie wykluczy*",
            "w przyszłym",
            "wkrótce",
            "jeśli",
            "jeżeli",
            "gdyby",
            "będzie",
            "będą",
            "zostanie",
            "zostaną",
            "ma się",
            "mają się",
            "ma zostać",
            "mają zostać",
            "przeprowadzą",
            "przeprowadzi",
            "odwiedzi",
            "pojedzie",
            "przyjedzie",
            "spotka się",
            "spotkają się",
            "pomoże",
            "pomogą",
            "przekaże",
            "przekażą",
            "dostarczy",
            "dostarczą",
            "sprzeda",
            "sprzedadzą",
            "nałoży",
            "nałożą",
            "wyśle",
            "wyślą",
            "rozpocznie",
            "rozpoczną",
            "weźmie udział",
            "obieca*",
        ),
        Modality.REPORTED: (
            "według",
            "podobno",
            "rzekomo",
            "jakoby",
            "doniesieni*",
            "donos*",
            "nieoficjaln*",
            "niepotwierdzon*",
            "podają",
            "podaje",
            "mieli rozmawiać",
            "miał* rozmawiać",
        ),
    },
    "uk": {
        Modality.DENIED: (
            "спростува*",
            "запереч*",
            "не підтверди*",
            "відмовив* коментувати",
            "неправд*",
            "безпідставн*",
        ),
        Modality.PLANNED_OR_POSSIBLE: (
            "може",
            "можуть",
            "міг би",
            "могла б",  # noqa: RUF001 (Cyrillic)
            "план*",
            "очіку*",
            "має намір",
            "намір*",
            "збира*",
            "можлив*",
            "найближч*",
            "наступн* тижн*",
            "наступного місяця",
            "буде",
            "будуть",
            "якщо",
            "незабаром",
            "ймовірн*",
            "імовірн*",
            "проведе",
            "проведуть",
            "відвідає",
        ),
        Modality.REPORTED: (
            "за даними",
            "повідомля*",
            "за повідомленням*",
            "нібито",
            "як повідомляється",
            "за інформацією",
            "джерела",
        ),
    },
    "de": {
        Modality.DENIED: (
            "dementier*",
            "bestritt*",
            "bestreit*",
            "zurückgewiesen",
            "wies* zurück",
            "nicht bestätigt",
            "nicht äußern",
            "haltlos",
            "abgesagt",
        ),
        Modality.PLANNED_OR_POSSIBLE: (
            "könnte",
            "könnten",
            "kann",
            "können",
            "soll",
            "sollen",
            "will",
            "wollen",
            "plan*",
            "geplant*",
            "wird",
            "werden",
            "erwartet",
            "voraussichtlich",
            "möglich*",
            "eventuell",
            "wahrscheinlich",
            "nächste* Woche",
            "nächste* Monat",
            "demnächst",
            "bald",
            "falls",
            "wenn",
            "beabsichtig*",
            "erwägt",
            "erwägen",
            "vorbereit*",
        ),
        Modality.REPORTED: (
            "laut",
            "Berichten zufolge",
            "zufolge",
            "angeblich",
            "berichtet*",
            "Medienberichte*",
            "mutmaßlich*",
        ),
    },
    "fr": {
        Modality.DENIED: (
            "dément*",
            "démenti*",
            "nié",
            "nie",
            "nient",
            "refusé de commenter",
            "n'a pas confirmé",
            "sans fondement",
            "infondé*",
            "annulé*",
        ),
        Modality.PLANNED_OR_POSSIBLE: (
            "pourrait",
            "pourraient",
            "pourra",
            "peut",
            "peuvent",
            "prévoit",
            "prévu*",
            "envisag*",
            "devrait",
            "devraient",
            "doit",
            "doivent",
            "projet*",
            "possible*",
            "éventuel*",
            "potentiel*",
            "probablement",
            "la semaine prochaine",
            "le mois prochain",
            "bientôt",
            "si",
            "sera",
            "seront",
            "va",
            "vont",
            "se rendra",
            "visitera",
            "attendu*",
            "organisera",
            "livrera",
        ),
        Modality.REPORTED: (
            "selon",
            "d'après",
            "aurait",
            "auraient",
            "rapport*",
            "présumé*",
            "prétendu*",
            "citant",
            "non confirmé*",
            "sources",
        ),
    },
    "es": {
        Modality.DENIED: (
            "negó",
            "niega",
            "niegan",
            "desmint*",
            "no confirmó",
            "se negó a comentar",
            "infundad*",
            "falso",
            "cancel*",
        ),
        Modality.PLANNED_OR_POSSIBLE: (
            "podría",
            "podrían",
            "puede",
            "pueden",
            "planea*",
            "prevé",
            "previst*",
            "espera*",
            "posible*",
            "posiblemente",
            "eventual*",
            "potencial*",
            "probablemente",
            "considera*",
            "próxima semana",
            "próximo mes",
            "pronto",
            "si",
            "será",
            "serán",
            "va a",
            "van a",
            "tiene previsto",
            "se reunirá",
            "viajará",
            "visitará",
            "realizará",
            "realizarán",
        ),
        Modality.REPORTED: (
            "según",
            "supuestamente",
            "presunt*",
            "informa*",
            "reportó",
            "citando",
            "fuentes",
            "habría",
            "habrían",
        ),
    },
    "ko": {
        Modality.DENIED: ("부인*", "부정*", "사실무근*", "확인하지"),
        Modality.PLANNED_OR_POSSIBLE: ("예정*", "계획*", "가능성*", "전망*", "검토*", "방문할", "수"),
        Modality.REPORTED: ("보도*", "따르면", "전해졌다", "알려졌다"),
    },
}

_HEADLINE_VERBS = (
    "visit", "meet", "host", "travel", "hold", "stage", "conduct", "launch", "test", "fire", "impose",
    "sanction", "lift", "extend", "tighten", "ease", "ban", "sell", "buy", "supply", "send", "deliver",
    "ship", "provide", "give", "arm", "deploy", "sign", "join", "attend", "begin", "start", "resume",
    "shift", "expand", "announce", "unveil", "seek", "discuss",
)  # fmt: skip
HEADLINE_CUES: dict[str, dict[Modality, tuple[str, ...]]] = {
    "en": {Modality.PLANNED_OR_POSSIBLE: tuple(f"to {verb}" for verb in _HEADLINE_VERBS)},
}
"""Headline style's future, read in titles only: "Kim to visit Russia", "UK to sanction Russian gold". In
a body, "travelled to Moscow to meet Putin" is a purpose, not a plan."""


class ModalityDetector:
    def __init__(
        self,
        cues: dict[str, dict[Modality, tuple[str, ...]]] = CUES,
        headline_cues: dict[str, dict[Modality, tuple[str, ...]]] = HEADLINE_CUES,
    ) -> None:
        self._ranks: list[int] = []
        """Each cue's class as its index in PRECEDENCE, so the strongest is the minimum."""
        self._labels: list[str] = []
        self._headline_only: set[int] = set()
        self.patterns: dict[str, list[Pattern]] = {}
        """Per language, every cue pattern, registered under the cue's index."""
        for table, headline in ((cues, False), (headline_cues, True)):
            for language, classes in table.items():
                patterns = self.patterns.setdefault(language, [])
                for modality, cue_patterns in classes.items():
                    for pattern in cue_patterns:
                        if headline:
                            self._headline_only.add(len(self._ranks))
                        patterns.append(Pattern(pattern, len(self._ranks), pattern in _CASE_SENSITIVE))
                        self._ranks.append(PRECEDENCE.index(modality))
                        self._labels.append(pattern)

    def cues(self, hits: list[Hit], fields: tuple[Tokens, ...]) -> DocumentCues:
        """The document's cue hits, grouped once and shared by all its topics."""
        sentences = [tokens.sentences for tokens in fields]
        by_sentence: dict[tuple[int, int], list[Hit]] = {}
        headline_only = self._headline_only
        for cue in hits:
            if cue.owner in headline_only and fields[cue.field].field != "title":
                continue
            by_sentence.setdefault((cue.field, sentences[cue.field][cue.first]), []).append(cue)
        return DocumentCues(fields, sentences, by_sentence)

    def assess(self, triggers: tuple[Hit, ...], cues: DocumentCues) -> tuple[str, dict[str, Any]]:
        # Per trigger sentence, the precedence rank of its strongest cue near a trigger (3: none, actual).
        ranks: dict[tuple[int, int], int] = {}
        # The cue cited at each (field, token); the evidence records are built for these only.
        cited: dict[tuple[int, int], Hit] = {}
        cue_ranks = self._ranks
        sentences, by_sentence, fields = cues.sentences, cues.by_sentence, cues.fields
        for _, field_index, first, last in triggers:
            key = (field_index, sentences[field_index][first])
            rank = ranks.get(key, _ACTUAL)
            for cue in by_sentence.get(key, ()):
                if max(cue.first - last, first - cue.last) <= WINDOW:  # overlapping ("to visit"): 0
                    rank = min(rank, cue_ranks[cue.owner])
                    cited[(field_index, cue.first)] = cue
            ranks[key] = rank
        votes = [0.0] * len(PRECEDENCE)
        for (field_index, sentence), rank in ranks.items():
            title = fields[field_index].field == "title"
            weight = 3 if title else (2 if sentence == 0 else 1)
            votes[rank] += weight * (TITLE_UNCUED if title else UNCUED) if rank == _ACTUAL else weight
        winner = votes.index(max(votes))  # the first of equal votes has precedence
        listed, more = shown(sorted(cited), CUES_SHOWN)
        explanation: dict[str, Any] = {
            "votes": {_VALUES[rank]: v for rank, v in enumerate(votes) if v},
            "cues": [self._evidence(cited[k], cues) for k in listed],
            "rule": _RULE,
        }
        if more:
            explanation["cues_not_shown"] = more
        return _VALUES[winner], explanation

    def _evidence(self, cue: Hit, cues: DocumentCues) -> dict[str, Any]:
        """A copy of the cue's record: it is made once per document, but each topic owns its explanation."""
        record = cues.evidence.get(cue)
        if record is None:
            tokens = cues.fields[cue.field]
            start, end = tokens.starts[cue.first], tokens.ends[cue.last - 1]
            record = cues.evidence[cue] = {
                "cue": self._labels[cue.owner],
                "modality": _VALUES[self._ranks[cue.owner]],
                "field": tokens.field,
                "start": start,
                "end": end,
                "text": tokens.text[start:end],
            }
        return record.copy()


class DocumentCues:
    """One document's cue hits by (field, sentence) and the evidence records made so far, shared by the
    modality assessments of all its topics."""

    __slots__ = ("by_sentence", "evidence", "fields", "sentences")

    def __init__(
        self,
        fields: tuple[Tokens, ...],
        sentences: list[list[int]],
        by_sentence: dict[tuple[int, int], list[Hit]],
    ) -> None:
        self.fields = fields
        self.sentences = sentences
        self.by_sentence = by_sentence
        self.evidence: dict[Hit, dict[str, Any]] = {}


_RULE = (
    "per trigger sentence: denied > planned_or_possible > reported > actual (no cue); "
    "votes: title 3, lead sentence 2, others 1; a sentence with no cue x0.7 in the title, halved elsewhere; "
    "ties by the same precedence"
)
