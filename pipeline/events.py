"""Event clustering: a report in its own words finds the story of the same event by what it names.

Near-duplicate clustering (pipeline/cluster.py) joins copies of one text. Outlets' own reports of one
event share few word sequences but name the same things: people, places, organisations, and a handful
of salient words ("Derna", "floods", "dams"). So each article also becomes a weighted bag of features,
single-pass clustering in the TDT tradition (Allan et al. 1998; Miranda et al. 2018):

- **terms**: content words of title (weighted `title_weight`) and body, cut to their first `prefix`
  letters, a crude stemmer that works for inflected languages too (McNamee & Mayfield 2004);
- **names**: capitalised words inside a sentence, where case marks a name (not in a title set In Title
  Case), weighted `name_weight`;
- **actors**: the classifier's gazetteer ids (language-independent: "Władimir Putin" and "Vladimir
  Putin" are one feature), persons at `name_weight`, countries at `country_weight` (countries alone
  are shared by too many different events).

Weights are scaled by an inverse document frequency learned from the stream itself, decayed in event
time (`half_life`), so this week's everywhere-words weigh little and a new place name weighs much. A
story keeps the `centroid_terms` heaviest features of its articles (its centroid); an article joins the
most similar live story when the cosine reaches `threshold`. A report that matches two stories at
`merge_threshold` or more shows they are one event that began as two (the classic single-pass split):
they merge, the older story's id surviving.

What a report says about itself narrows where it may go (docs/adr/0006-story-identity.md): a statement
("<Name> says…") is its speaker's occasion; a headline whose main clause reports a watched kind of event
(`headline_kinds`) is not another kind's story; a digest (`digest`) bridges no two stories and a roundup
of several (`roundup`) joins none. A short report carrying a story's two defining words joins it below
`threshold` (`defining_terms`). The stream also learns which sentence-initial words are names
(`EventIndex.knows_name`), as it learns its IDF.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import repeat
from operator import mul
from typing import Any

from pipeline.textnorm import STOPWORDS, stable_hash, title_case
from schemas.article import ActorRef

Features = dict[int, float]
"""Feature key (64-bit hash of kind and value) -> base weight (log-scaled count times kind weight)."""

_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\n+")
_NEWS_WORDS = """about after against all also amid any back been before being between both can could day
days did
does during each first few get gets got here how just last latest live made make makes many may more
most much new news now off one only other out over own per report reports same say says should since
so some such than them then there these those three through time told tells two under until very
video watch way week what when where while who why year years yet you your we our my me i"""
_POLISH_STOPWORDS = """a aby ale bo by być był była było co czy dla do go i ich jak jako jego jej jest już
ma na nad nie o
od oraz po pod przez przy się są ta tak także te tego tej ten to tu tym w we z za ze że"""
STOP = STOPWORDS | frozenset(_NEWS_WORDS.split()) | frozenset(_POLISH_STOPWORDS.split())


@dataclass(frozen=True, slots=True)
class EventParams:
    threshold: float = 0.45
    merge_threshold: float = 0.35
    prefix: int = 5
    title_weight: float = 2.0
    name_weight: float = 2.0
    country_weight: float = 0.5
    centroid_terms: int = 22
    max_chars: int = 600
    """Body text read for features: who and what an event is about is in the lede, and a long article
    must not cost more than a few short ones."""
    probe_terms: int = 8
    """An article looks for candidate stories through its heaviest features only (bounded lookups)."""
    max_posting: int = 256
    """A feature among more live stories' heaviest than this says nothing about which one an article
    belongs to: it is not used to find candidates (the cost of a lookup stays bounded)."""
    max_candidates: int = 16
    """Stories compared per article: those sharing the most of its probe features."""
    prior_docs: float = 50.0
    """Smoothing: a stream that has seen few articles does not trust its document frequencies yet."""
    half_life: timedelta = timedelta(hours=24)
    max_gap: timedelta = timedelta(hours=36)
    """A story takes an article by its event only within this much event time of its latest article."""
    cross_language_threshold: float = 0.5
    """Cosine over names and actors alone at which a report joins a story told in other languages."""
    principal_names: int = 4
    """A statement ("Durbin slams…") joins a story by its event only when its speaker is among the story's
    this many heaviest features: someone else's reaction is an occasion of its own. 0: no such check."""
    statement_owner: bool = True
    """And the other way round: a story made only of one speaker's statements takes a report only where
    that speaker is among the report's `principal_names` heaviest features too. The occasion everyone
    reports does not join the pundit's comment that happened to come first."""
    link_actors: int = 3
    """A report of a watched kind of event (a topic) that its words do not place joins a live story of
    the same kind sharing this many gazetteer actors with it, `link_persons` of them people: Kim and
    Putin, Russia and North Korea at a summit are one occasion in any outlet's words and any language."""
    link_persons: int = 1
    kind_gate: bool = True
    """A report whose headline's main clause reports a watched kind of event (`headline_kinds`: a weapons
    test, sanctions…) joins, links to or merges no story whose headlines reported only other kinds: the
    same actors doing another thing is another event (GDELT's actor + event-code identity). North Korea's
    missile launch on the morning of the summit is not the summit, whatever words they share."""
    kind_share: float = 0.5
    """The share of a topic's threshold its contributions inside the headline's main clause must reach
    for the headline to report that kind."""
    defining_terms: int = 2
    """A story's defining words: its this many heaviest term features (every word of a text is a term,
    names' words too; name and actor features are not). A short report in its own words carrying all
    of them ("Morocco" and "earthquake", "Libya" and "floods") joins the story at `defining_floor`
    already: a title and a sentence rarely reach `threshold` with anything. In the story's language
    only, and never a merge by itself. 0: off."""
    defining_floor: float = 0.2
    known_name_docs: float = 3.0
    """A capitalised word that starts a sentence, where case says nothing, is a name when this many
    recent articles (decayed count) had it as one: headlines lead with their subject ("Sunak announces…",
    "Garland stresses…"), and a subject the gazetteer lacks was otherwise no name feature at all. The
    stream learns its names as it learns its IDF. 0: never."""


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text))


NAMED = 1 << 63
"""The bit that marks a name or gazetteer actor feature: what reads the same in any language."""


@lru_cache(maxsize=65536)  # words repeat across articles: hash each once
def _key(kind: str, value: str) -> int:
    key = stable_hash(f"{kind}\x00{value}")
    return key | NAMED if kind in {"n", "a"} else key & ~NAMED


def _name(word: str, params: EventParams) -> int:
    return _key("n", word.casefold()[: params.prefix])


_SPEECH = re.compile(
    r"^(?:[A-Z][\w'\u2019.-]*\s){0,3}?([A-Z][\w'\u2019.-]*)(?:,\s[^,]{1,60},)?\s"
    r"(?:says|said|slams|knocks|blasts|rips|urges|warns|gloats|accuses|praises|criticizes|criticises|defends"
    r"|calls|claims|demands|denounces|condemns|declines|refuses|rejects|compares|questions|mocks|responds"
    r"|reacts|insists|argues|admits|denies|threatens|suggests|predicts|touts|pleads"
    r"|(?:hits|fires|pushes) back|doubles down|weighs in)\b"
)
"""A statement: "<Name> says/slams/declines…", the name followed by an apposition or not ("Durbin, No.
2-ranking Senate Democrat, calls for…"). Pledges and vows are not here: at a summit they are its outcome."""
_QUOTED = re.compile(r"^(?:[A-Z][\w'\u2019.-]*\s)?([A-Z][\w'\u2019.-]*[a-z][\w'\u2019.-]*):\s")
"""A headline that quotes its speaker: "Schiff: …", "Mike Pence: …" (not "READ: …" in capitals)."""
_LABELS = frozenset(
    {"analysis", "breaking", "editorial", "explainer", "exclusive", "factbox", "firstft", "interview"}
    | {"live", "opinion", "photos", "podcast", "review", "update", "updates", "video", "watch"}
)
_LEAD_LABEL = re.compile(r"^(?:[^\s:]+\s){0,2}[^\s:]+:\s")
"""A short lead-in before a colon ("Russia-Ukraine War: …", "Libya floods: …"): not the main clause."""
_CONTEXT = re.compile(
    r"\s(?:as(?!\s(?:many|much|well|long|soon|far|part|if|though)\b)|amid|while|after|ahead of|during"
    r"|despite|following|before)\s|[:;|\u2014\u2013]",
    re.IGNORECASE,
)
"""Where a headline's main clause ends: what follows "…fires missile as Kim meets Putin" is context.
An error here fails open: a clause cut too early reports no kind, and a report of no kind is gated by
nothing."""


def headline_kinds(title: str, topics: Iterable[Mapping[str, Any]], params: EventParams) -> frozenset[str]:
    """The watched topics (the classifier's explained topics) whose contributions matched in the
    headline's main clause bring them to `kind_share` of their threshold: the kind of event the headline
    reports, not the kinds it mentions. A contribution also matched in the body (a lede repeating the
    headline) counts by its headline matches."""
    label = _LEAD_LABEL.match(title)
    start = label.end() if label else 0
    cut = _CONTEXT.search(title, start)
    end = cut.start() if cut else len(title)
    found = set()
    for topic in topics:
        inside = 0.0
        for contribution in topic.get("contributions", ()):
            spans = [s for s in contribution.get("spans", ()) if s["field"] == "title"]
            if spans and all(start <= s["start"] and s["end"] <= end for s in spans):
                inside += float(contribution["weight"])
        if inside >= float(topic["threshold"]) * params.kind_share:
            found.add(str(topic["topic"]))
    return frozenset(found)


_DIGEST_LABEL = re.compile(
    r"\b(?:live|briefing)(?:\s+(?:updates?|blog|briefing|coverage))?\s*:|\b(?:live|briefing)\s*$"
    r"|\blive\s+(?:updates?|blog)\b",
    re.IGNORECASE,
)


def digest(title: str) -> bool:
    """Whether a headline is a digest: "live"/"briefing" as its label ("Ukraine live briefing: summit
    starts…", "Wednesday Briefing", "US politics live") or events joined by a semicolon. It may name
    several events, so its matching two stories does not make them one (the chaining that single-link
    clustering is known for). A single event told in two clauses is taken for one: it only loses a
    merge."""
    return ";" in title or _DIGEST_LABEL.search(title) is not None


def roundup(title: str) -> bool:
    """Whether a headline is a roundup of several events: a digest label and a semicolon ("Up First
    briefing: Biden impeachment inquiry; Libya flood; …", "Australia politics live: …; …"). It reports
    none of them: it stays a story of its own (`speaker`), as the gold of a real day has it."""
    label = _DIGEST_LABEL.search(title)
    return label is not None and ";" in title[label.end() :]


_REACTION = re.compile(
    r"\b(?:sparks?|draws?|prompts?|triggers?|provokes?)\s+(?:\w+\s+){0,2}?"
    r"(?:warnings?|criticism|backlash|blowback|outrage|condemnation|fury|anger|alarm|calls|concerns?)\b"
    r"|(?<!\bfaces\s)(?<!\bfacing\s)(?<!\bfaced\s)(?<!\bface\s)"
    r"\b(?:outrage|backlash|blowback|fury)\s+(?:over|at|against)\b",
    re.IGNORECASE,
)
"""A reaction piece: "…sparks warnings from the West", "…draws fierce blowback", "outrage over…": the
response to an occasion, which the reacting side owns, not the occasion's report. Not "<X> faces
backlash over…": that headline's subject is the occasion's own actor, and it reports the occasion."""
_PUNDITS = re.compile(r",\s+(?:experts?|analysts?)\s+says?\W*$", re.IGNORECASE)
"""An analysis piece: "…, experts say" is no report of an occasion, and pundits are no story's principal."""


def speaker(title: str, params: EventParams) -> int | None:
    """The name key of who speaks in a headline of the form "<Name> says/slams/urges …" or "<Name>: …",
    the pundits of "…, experts say", the reacting side of "…sparks warnings", else None. A roundup
    (`roundup`) speaks for itself: a key no story holds, so it joins none and none joins it."""
    text = unicodedata.normalize("NFKC", title)
    if roundup(text):
        return _key("p", "roundup")
    match = _SPEECH.match(text)
    if match:
        return _name(match.group(1), params)
    quoted = _QUOTED.match(text)
    if quoted and not title_case(_words(text)) and quoted.group(1).casefold() not in _LABELS:
        return _name(quoted.group(1), params)
    if _PUNDITS.search(text):
        return _key("p", "pundits")
    return _key("p", "reactions") if _REACTION.search(text) else None


def features(
    title: str,
    text: str,
    actors: Iterable[ActorRef],
    params: EventParams,
    known_name: Callable[[int], bool] | None = None,
) -> Features:
    """The article's features with their base weights (before IDF); with `known_name`
    (`EventIndex.knows_name`), also the words that start a sentence and the stream knows as names, each
    as one mention."""
    counts: dict[int, float] = {}
    kinds: dict[int, float] = {}

    def add(key: int, count: float, weight: float) -> None:
        counts[key] = counts.get(key, 0.0) + count
        kinds[key] = weight

    # Each field read once, by sentence: terms from all its words, names from all but a sentence's first.
    title_sentences = [_words(sentence) for sentence in _SENTENCE.split(title)]
    text_sentences = [_words(sentence) for sentence in _SENTENCE.split(text[: params.max_chars])]
    for sentences, weight in ((title_sentences, params.title_weight), (text_sentences, 1.0)):
        for words in sentences:
            for word in words:
                if (key := _term_key(word, params.prefix)) is not None:
                    add(key, weight, 1.0)
    title_words = [word for words in title_sentences for word in words]
    for words in ([] if title_case(title_words) else title_sentences) + text_sentences:
        for word in words[1:]:
            if (key := _name_key(word, params.prefix)) is not None:
                add(key, 1.0, params.name_weight)
    for actor in actors:
        weight = params.name_weight if actor.type == "person" else params.country_weight
        add(_key("a", actor.id), 1.0, weight)
    found = {key: (1 + math.log(count)) * kinds[key] for key, count in counts.items()}
    if known_name is not None:  # where case says nothing: a name only if the stream has seen it as one
        for words in (*title_sentences, *text_sentences):
            key = _name_key(words[0], params.prefix) if words else None
            if key is not None and key not in found and known_name(key):
                found[key] = params.name_weight
    return found


@lru_cache(maxsize=65536)
def _term_key(word: str, prefix: int) -> int | None:
    """A content word's term feature, None for a stop word or one of two letters (cached: words repeat)."""
    folded = word.casefold()
    if len(folded) <= 2 or folded in STOP:
        return None
    stem = _stem(folded)
    return _key("t", _ABBREVIATED.get(stem, stem)[:prefix])


_ABBREVIATED = {"quake": "earthquake"}
"""Headline abbreviations the prefix cannot see (the short form is the word's end, not its start).
Synonyms are not here: "blaze" for "fire" was tried and cost 0.002 B-cubed F1 on the development day."""
_DOUBLED = re.compile(r"([b-df-hj-np-tv-z])\1$")
_KEPT_DOUBLE = ("ll", "ss", "zz", "ff")


def _stem(word: str) -> str:
    """A light English suffix stripper (plural "s", "ies", "ing", "ed"; Harman 1991's S-stemmer and a
    little more) before the prefix cut: "ban", "bans", "banned" and "banning" are one feature, as are
    "deny", "denies" and "denied", "dam" and "dams". The prefix alone cuts long words only, and a
    short report's short words are the event ("ban", "hits", "talks"). Words of other languages rarely
    end so; where they do, it is one more crude cut of the kind the prefix already makes."""
    if len(word) > 4 and word.endswith(("ies", "ied")):
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if _DOUBLED.search(stem) and not stem.endswith(_KEPT_DOUBLE):
                stem = stem[:-1]
            return stem
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def _name_key(word: str, prefix: int) -> int | None:
    """A capitalised word's name feature (where case marks a name), else None."""
    folded = word.casefold()
    named = word[0].isupper() and len(folded) > 2 and folded not in STOP
    return _key("n", folded[:prefix]) if named else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(when: datetime) -> int:
    return (when - _EPOCH) // _MICROSECOND


class DocumentFrequencies:
    """How many recent articles had each feature, decayed with `half_life` of event time.

    Times are held as integer microseconds since the epoch: the same ages as datetime arithmetic, to the
    bit, without its cost (this runs for every feature of every article)."""

    def __init__(self, params: EventParams) -> None:
        self.params = params
        self._rate = math.log(2) / params.half_life.total_seconds()
        self._df: dict[int, tuple[float, int]] = {}
        self._docs: tuple[float, int] | None = None
        self._pruned: datetime | None = None

    def __len__(self) -> int:
        return len(self._df)

    def _decayed(self, value: tuple[float, int] | None, at: int) -> float:
        if value is None:
            return 0.0
        age = at - value[1]
        return value[0] * math.exp(-self._rate * (age / 1e6)) if age > 0 else value[0]

    def add(self, keys: Iterable[int], when: datetime) -> None:
        """Count one article with these features at event time `when` (a late one counts as on time)."""
        at = _micros(when)
        df, rate, exp = self._df, self._rate, math.exp
        for key in keys:  # `_plus_one` inlined: this loop runs for every feature of every article
            held = df.get(key)
            if held is None:
                df[key] = (1.0, at)
            elif at > held[1]:
                df[key] = (held[0] * exp(-rate * ((at - held[1]) / 1e6)) + 1.0, at)
            else:
                df[key] = (held[0] + 1.0, held[1])
        self._docs = self._plus_one(self._docs, at)

    def _plus_one(self, held: tuple[float, int] | None, at: int) -> tuple[float, int]:
        if held is None:
            return 1.0, at
        latest = max(at, held[1])
        return self._decayed(held, latest) + 1.0, latest

    def count(self, key: int, when: datetime) -> float:
        """The decayed number of articles that had this feature, as of `when`."""
        return self._decayed(self._df.get(key), _micros(when))

    def idf(self, key: int, when: datetime) -> float:
        return self.idfs([key], when)[0]

    def idfs(self, keys: Iterable[int], when: datetime) -> list[float]:
        """`idf` of each key at `when` (the article count decayed once for all of them)."""
        at = _micros(when)
        numerator = self._decayed(self._docs, at) + self.params.prior_docs
        df, rate, exp, log = self._df, self._rate, math.exp, math.log
        idfs = []
        for key in keys:  # `_decayed` inlined, as in `add`
            held = df.get(key)
            if held is None:
                count = 0.0
            elif at > held[1]:
                count = held[0] * exp(-rate * ((at - held[1]) / 1e6))
            else:
                count = held[0]
            idfs.append(max(0.0, log(numerator / (count + 1))))
        return idfs

    def expire(self, when: datetime, floor: float = 0.05) -> None:
        """Forget features whose decayed count fell below `floor` (bounded memory); a sweep every quarter
        of a half-life is often enough, and a sweep walks every feature."""
        if self._pruned is not None and when - self._pruned < self.params.half_life / 4:
            return
        self._pruned = when
        at = _micros(when)
        self._df = {k: v for k, v in self._df.items() if self._decayed(v, at) >= floor}

    def state_bytes(self) -> int:
        """Per feature an 8-byte key, an 8-byte count and an 8-byte time."""
        return 24 * len(self._df) + 16


@dataclass(slots=True)
class _Centroid:
    weights: dict[int, float] = field(default_factory=dict)
    """Summed IDF-weighted features of its articles, its heaviest `centroid_terms` kept."""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    norm: float = 0.0
    principals: tuple[int, ...] = ()
    """Its heaviest features (EventParams.principal_names)."""
    languages: set[str] = field(default_factory=set)
    speaker: int | None = None
    """Who spoke in the headlines of all its articles: such a statement's story is the speaker's occasion."""
    kinds: frozenset[str] = frozenset()
    """The watched kinds of event its headlines reported (`headline_kinds`)."""


@dataclass(frozen=True, slots=True)
class EventMatch:
    story_id: str
    similarity: float
    defined: bool = False
    """Whether the report carries the story's defining terms (EventParams.defining_terms)."""

    def places(self, params: EventParams) -> bool:
        """Whether this match puts the report in the story."""
        floor = params.defining_floor if self.defined else params.threshold
        return self.similarity >= floor


class EventIndex:
    """Story centroids and the postings that find them, by story id."""

    def __init__(self, params: EventParams | None = None) -> None:
        self.params = params or EventParams()
        self.frequencies = DocumentFrequencies(self.params)
        self._stories: dict[str, _Centroid] = {}
        self._postings: dict[int, set[str]] = {}

    def __len__(self) -> int:
        return len(self._stories)

    def observe(self, base: Features, when: datetime) -> dict[int, float]:
        """Count the article in the document frequencies and return its IDF-weighted vector."""
        self.frequencies.add(base, when)
        return self.weigh(base, when)

    def knows_name(self, key: int, when: datetime) -> bool:
        """Whether at least `EventParams.known_name_docs` recent articles had this name feature (the
        `known_name` of `features`)."""
        wanted = self.params.known_name_docs
        return bool(wanted) and self.frequencies.count(key, when) >= wanted

    def weigh(self, base: Features, when: datetime) -> dict[int, float]:
        """The IDF-weighted vector of an article already counted (a replay)."""
        return {
            k: w * idf for (k, w), idf in zip(base.items(), self.frequencies.idfs(base, when), strict=True)
        }

    def matches(
        self,
        vector: Mapping[int, float],
        when: datetime,
        speaker: int | None = None,
        language: str = "",
        kinds: frozenset[str] = frozenset(),
    ) -> list[EventMatch]:
        """Live stories open to the report (`_open_to`) at least `merge_threshold` similar to `vector`,
        or `defining_floor` where it carries their defining terms, most similar first (ties: id)."""
        p = self.params
        probe = sorted(vector, key=lambda k: (-vector[k], k))[: p.probe_terms]
        shared: Counter[str] = Counter()
        for key in probe:
            holders = self._postings.get(key, ())
            if len(holders) <= p.max_posting:
                shared.update(holders)
        ranked = sorted(shared, key=lambda sid: (-shared[sid], sid))[: p.max_candidates]
        own = frozenset(probe[: p.principal_names])
        norm = math.sqrt(sum(w * w for w in vector.values()))
        named = {k: w for k, w in vector.items() if k & NAMED}
        named_norm = math.sqrt(sum(w * w for w in named.values()))
        found = []
        for story_id in sorted(ranked):
            story = self._stories[story_id]
            if not self._open_to(story, when, speaker, kinds, own):
                continue
            if language and story.languages and language not in story.languages:
                similarity = (
                    _named_cosine(named, named_norm, story) * p.threshold / p.cross_language_threshold
                )
                defined = False  # its words cannot carry the story's: names and actors decide
            else:
                similarity = _cosine(vector, norm, story)
                defined = p.defining_floor <= similarity < p.threshold and self._defined(vector, story)
            if similarity >= p.merge_threshold or defined:
                found.append(EventMatch(story_id, similarity, defined))
        return sorted(found, key=lambda m: (-m.similarity, m.story_id))

    def _open_to(
        self,
        story: _Centroid,
        when: datetime,
        speaker: int | None,
        kinds: frozenset[str],
        own: frozenset[int] | None,
    ) -> bool:
        """Whether a story may take a report at `when`: in the news (`max_gap`); for a statement by
        `speaker`, one the speaker is a principal of; for a headline of `kinds`, not of other kinds only;
        if the story is one speaker's statements, the speaker among the report's heaviest features `own`
        (None: not known, as for a link by actors, which then needs the speaker to be the report's)."""
        p = self.params
        if story.last_seen is not None and abs(when - story.last_seen) > p.max_gap:
            return False
        if not p.principal_names:
            return self._kin(kinds, story)
        if speaker is not None and speaker not in story.principals:
            return False
        others = p.statement_owner and story.speaker not in (None, speaker)
        if others and (own is None or story.speaker not in own):
            return False
        return self._kin(kinds, story)

    def _defined(self, vector: Mapping[int, float], story: _Centroid) -> bool:
        wanted = self.params.defining_terms
        if not wanted:
            return False
        terms = [key for key in story.weights if not key & NAMED][:wanted]
        return len(terms) == wanted and all(key in vector for key in terms)

    def holding(
        self,
        actor_ids: Iterable[str],
        when: datetime,
        speaker: int | None = None,
        kinds: frozenset[str] = frozenset(),
    ) -> list[str]:
        """Live stories whose centroid holds any of these gazetteer actors (by id) and that are open to
        the report (`_open_to`; a story of one speaker's statements only to that speaker's)."""
        found: set[str] = set()
        for actor_id in actor_ids:
            found.update(self._postings.get(_key("a", actor_id), ()))
        stories = self._stories
        return sorted(sid for sid in found if self._open_to(stories[sid], when, speaker, kinds, None))

    def _kin(self, kinds: frozenset[str], story: _Centroid) -> bool:
        return not (self.params.kind_gate and kinds and story.kinds and kinds.isdisjoint(story.kinds))

    def mergeable(self, a: str, b: str) -> bool:
        """Whether one report's match with both stories may make them one: not when their headlines
        reported different kinds only, nor when either opened with a statement by someone who is not a
        principal of the other (a reaction stays its own occasion)."""
        first, second = self._stories.get(a), self._stories.get(b)
        if first is None or second is None:
            return True
        if not self._kin(first.kinds, second):
            return False
        if not self.params.principal_names:
            return True
        return (first.speaker is None or first.speaker in second.principals) and (
            second.speaker is None or second.speaker in first.principals
        )

    def add(
        self,
        story_id: str,
        vector: Mapping[int, float],
        when: datetime,
        language: str = "",
        *,
        speaker: int | None = None,
        kinds: frozenset[str] = frozenset(),
    ) -> None:
        """Fold an article's vector into its story's centroid (`speaker`, `kinds`: of its headline)."""
        story = self._stories.get(story_id)
        if story is None:
            story = self._stories[story_id] = _Centroid(speaker=speaker)
        elif story.speaker != speaker:
            story.speaker = None  # others report it too: an occasion, no longer one person's statement
        story.kinds |= kinds
        if language:
            story.languages.add(language)
        story.first_seen = when if story.first_seen is None else min(story.first_seen, when)
        story.last_seen = when if story.last_seen is None else max(story.last_seen, when)
        for key, weight in vector.items():
            story.weights[key] = story.weights.get(key, 0.0) + weight
        self._trim(story_id, story)

    def merge(self, absorbed: str, survivor: str) -> None:
        """Fold `absorbed`'s centroid into `survivor`'s; `absorbed` is gone afterwards."""
        gone = self._stories.pop(absorbed, None)
        if gone is None:
            return
        self._unpost(absorbed, gone.weights)
        story = self._stories.setdefault(survivor, _Centroid())
        story.languages |= gone.languages
        story.kinds |= gone.kinds
        for key, weight in gone.weights.items():
            story.weights[key] = story.weights.get(key, 0.0) + weight
        for seen in (gone.first_seen, gone.last_seen):
            if seen is not None:
                story.first_seen = seen if story.first_seen is None else min(story.first_seen, seen)
                story.last_seen = seen if story.last_seen is None else max(story.last_seen, seen)
        self._trim(survivor, story)

    def _trim(self, story_id: str, story: _Centroid) -> None:
        kept = dict(
            sorted(story.weights.items(), key=lambda kv: (-kv[1], kv[0]))[: self.params.centroid_terms]
        )
        self._unpost(story_id, {k: w for k, w in story.weights.items() if k not in kept})
        story.weights = kept
        story.norm = math.sqrt(sum(w * w for w in kept.values()))
        story.principals = tuple(kept)[: self.params.principal_names]
        for key in kept:
            self._postings.setdefault(key, set()).add(story_id)

    def _unpost(self, story_id: str, keys: Iterable[int]) -> None:
        for key in keys:
            holders = self._postings.get(key)
            if holders is not None:
                holders.discard(story_id)
                if not holders:
                    del self._postings[key]

    def forget(self, story_ids: Iterable[str]) -> None:
        for story_id in story_ids:
            story = self._stories.pop(story_id, None)
            if story is not None:
                self._unpost(story_id, story.weights)

    def expire(self, when: datetime) -> None:
        self.frequencies.expire(when)

    def state_bytes(self) -> int:
        """Per story: its id, two 8-byte times, an 8-byte speaker, its languages and kinds, and an 8-byte
        key + 8-byte weight + 8-byte posting entry per centroid feature. The document frequencies are
        shared by all stories."""
        return sum(
            len(sid) + 1 + 24 + 24 * len(s.weights) + sum(len(name) + 1 for name in (*s.languages, *s.kinds))
            for sid, s in self._stories.items()
        )


def _cosine(vector: Mapping[int, float], norm: float, story: _Centroid) -> float:
    # Over the centroid's few features, not the article's many (products summed in the centroid's order).
    dot = sum(map(mul, story.weights.values(), map(vector.get, story.weights, repeat(0.0))))
    return dot / (norm * story.norm) if dot else 0.0


def _named_cosine(named: Mapping[int, float], norm: float, story: _Centroid) -> float:
    weights = {k: w for k, w in story.weights.items() if k & NAMED}
    dot = sum(w * weights.get(k, 0.0) for k, w in named.items())
    return dot / (norm * math.sqrt(sum(w * w for w in weights.values()))) if dot else 0.0
