"""Near-duplicate story clustering: wire copies of one report become one story with a stable `story_id`.

Outlets rewrite headlines, trim or add a sentence and append their own footer, so exact hashes miss
their copies. Each document gets a MinHash signature of word 3-gram shingles over title and body
(stopwords removed, per-source boilerplate stripped) plus a smaller "lede" signature over the first
words of the body; LSH buckets on both find candidate stories without scanning them all. A candidate
is joined when the body estimate reaches `threshold` or the ledes nearly coincide (a copy that only
carries the first paragraph). State per story is two small signatures and a summary, dropped
`ttl` of event time after the story's last article.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import blake2b

import numpy as np
import numpy.typing as npt

from pipeline.boilerplate import BoilerplateFilter
from pipeline.textnorm import content_words, stable_hash, tokens, word_digest
from schemas.article import story_id_for

Signature = npt.NDArray[np.uint32]
_U64 = npt.NDArray[np.uint64]
_LITTLE_U64 = np.dtype("<u8")

NUM_PERM = 64
LEDE_PERM = 32
SHINGLE = 3
EMPTY = np.uint32(0xFFFFFFFF)
_MIX = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_POSITION = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5, 0x85EBCA77C2B2AE63],
    dtype=np.uint64,
)


def _params(n: int) -> tuple[_U64, _U64]:
    """Multiply-shift hash parameters (odd multipliers), derived from fixed labels: same everywhere."""
    raw = [
        int.from_bytes(blake2b(f"watchfloor-minhash-{i}".encode(), digest_size=16).digest(), "little")
        for i in range(n)
    ]
    a = np.array([(r & 0xFFFFFFFFFFFFFFFF) | 1 for r in raw], dtype=np.uint64)
    b = np.array([r >> 64 for r in raw], dtype=np.uint64)
    return a, b


_A, _B = _params(NUM_PERM)


def _mix(x: _U64) -> _U64:
    """splitmix64 finaliser: shingle hashes built linearly from word hashes get their bits spread."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX[0]
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX[1]
    return x ^ (x >> np.uint64(31))


def _word_hashes(words: list[str]) -> _U64:
    """`stable_hash` of each word, read from one buffer of their digests (no Python int per word)."""
    return np.frombuffer(b"".join(map(word_digest, words)), dtype=_LITTLE_U64).astype(np.uint64)


def _shingles(hashes: _U64) -> _U64:
    """64-bit hashes of the word 3-grams of these word hashes (the whole text as one shingle when shorter)."""
    if not hashes.size:
        return np.empty(0, dtype=np.uint64)
    size = min(SHINGLE, hashes.size)
    count = hashes.size - size + 1
    acc = np.zeros(count, dtype=np.uint64)
    for j in range(size):
        acc += hashes[j : j + count] * _POSITION[j]
    return _mix(acc)


def _minhash(shingles: _U64, num_perm: int) -> Signature:
    if not shingles.size:
        return np.full(num_perm, EMPTY, dtype=np.uint32)
    hashed = np.multiply.outer(shingles, _A[:num_perm])
    hashed += _B[:num_perm]
    # The high 32 bits of the minimum are the minimum of the high 32 bits (a shift is monotonic).
    return (hashed.min(axis=0) >> np.uint64(32)).astype(np.uint32)


def signature(title: str, text: str) -> Signature:
    """MinHash of the word 3-gram shingles of title and body; compare two with `similarity`."""
    return _minhash(_shingles(_word_hashes(tokens(title) + tokens(text))), NUM_PERM)


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets; 0.0 when either document was empty."""
    if (a == EMPTY).all() or (b == EMPTY).all():
        return 0.0
    return float(np.count_nonzero(a == b)) / a.size


@dataclass(frozen=True, slots=True)
class ClusterParams:
    threshold: float = 0.45
    lede_threshold: float = 0.8
    lede_words: int = 30
    bands: int = 32
    lede_bands: int = 8
    max_ledes: int = 3
    """Distinct ledes a story keeps: a copy that rewrote the first paragraph adds its own, so a later report
    that opens like the original wire text still finds the story whichever version arrived first."""
    max_linked_bodies: int = 2
    """Body signatures a story keeps of reports that joined it by their event (`assign`'s `linked`): copies
    of such a report then find the story, and count as syndicated copies, as copies of the first do."""
    ttl: timedelta = timedelta(hours=72)
    boilerplate_min_stories: int | None = 2
    """None disables the boilerplate filter (used to show what it prevents)."""

    def __post_init__(self) -> None:
        if NUM_PERM % self.bands or LEDE_PERM % self.lede_bands:
            raise ValueError("bands must divide the signature length")
        if self.ttl <= timedelta(0):
            raise ValueError("ttl must be positive")


@dataclass(frozen=True, slots=True)
class ClusterDoc:
    item_id: str
    title: str
    text: str
    source_id: str
    tier: str
    event_time: datetime


@dataclass(frozen=True, slots=True)
class StorySummary:
    story_id: str
    first_seen: datetime
    last_seen: datetime
    articles: int
    sources: tuple[str, ...]
    tiers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assignment:
    story_id: str
    is_new_story: bool
    similarity: float
    """Larger of the body and lede estimates to the story joined; for a new story, to the best rejected
    candidate (0.0 if LSH found none)."""
    story: StorySummary
    body_similarity: float = 0.0
    """The body estimate alone to the story joined: a near-verbatim copy scores high here, while a report
    that shares only the lede does not."""
    linked: bool = False
    """Joined through `assign`'s `linked` story (the same event, pipeline/events.py), not by its text."""


@dataclass(slots=True)
class _Story:
    story_id: str
    sig: Signature
    ledes: list[Signature]
    first_seen: datetime
    last_seen: datetime
    articles: int = 1
    sources: set[str] = field(default_factory=set)
    tiers: set[str] = field(default_factory=set)
    items: list[int] = field(default_factory=list)
    """64-bit hashes of its articles' item ids (for replays and expiry)."""
    bodies: list[Signature] = field(default_factory=list)
    """Body signatures of linked reports (ClusterParams.max_linked_bodies)."""

    def summary(self) -> StorySummary:
        return StorySummary(
            self.story_id,
            self.first_seen,
            self.last_seen,
            self.articles,
            tuple(sorted(self.sources)),
            tuple(sorted(self.tiers)),
        )


def _band_keys(sig: Signature, bands: int, offset: int) -> list[int]:
    """One 32-bit bucket key per band (a collision only adds a candidate); `offset` keeps bands apart."""
    rows = sig.reshape(bands, -1).astype(np.uint64)
    weights = _POSITION[np.arange(rows.shape[1]) % (_POSITION.size - 1)]
    # One matrix product: the sum of each band's values times their position weights, modulo 2**64.
    acc = np.arange(offset, offset + bands, dtype=np.uint64) * _POSITION[-1] + rows @ weights
    return (_mix(acc) & np.uint64(0xFFFFFFFF)).tolist()


class StoryIndex:
    """Stories of one Beam key: signatures, summaries and LSH buckets, bounded by an event-time TTL."""

    def __init__(self, params: ClusterParams | None = None) -> None:
        self.params = params or ClusterParams()
        min_stories = self.params.boilerplate_min_stories
        self._boilerplate = BoilerplateFilter(min_stories) if min_stories else None
        self._stories: dict[int, _Story] = {}
        self._buckets: dict[int, tuple[int, ...]] = {}  # tuples: most buckets hold one story
        self._by_id: dict[str, int] = {}
        self._items: dict[int, int] = {}  # item id hash -> story handle: a replay is not counted twice
        self._next = 0

    def __len__(self) -> int:
        return len(self._stories)

    def live(self, story_id: str) -> bool:
        return story_id in self._by_id

    def knows(self, item_id: str) -> bool:
        """Whether the item was assigned before (a replay)."""
        return stable_hash(item_id) in self._items

    def _keys(self, story: _Story) -> list[int]:
        p = self.params
        keys = set(_band_keys(story.sig, p.bands, 0))
        for body in story.bodies:
            keys.update(_band_keys(body, p.bands, 0))
        for lede in story.ledes:
            keys.update(_band_keys(lede, p.lede_bands, p.bands))
        return sorted(keys)

    def _lede_similarity(self, lede: Signature, story: _Story) -> float:
        return max(similarity(lede, kept) for kept in story.ledes)

    @staticmethod
    def _body_similarity(sig: Signature, story: _Story) -> float:
        return max(similarity(sig, body) for body in (story.sig, *story.bodies))

    def _add_body(self, story: _Story, sig: Signature) -> None:
        """Keep a linked report's body signature, and find the story by it (see max_linked_bodies)."""
        if len(story.bodies) >= self.params.max_linked_bodies or (sig == EMPTY).all():
            return
        self._index(story, _band_keys(sig, self.params.bands, 0))
        story.bodies.append(sig)

    def _add_lede(self, story: _Story, lede: Signature) -> None:
        """Keep a joining article's lede when it differs from every lede the story has (see max_ledes)."""
        p = self.params
        if len(story.ledes) >= p.max_ledes or self._lede_similarity(lede, story) >= p.lede_threshold:
            return
        if (lede == EMPTY).all():
            return
        self._index(story, _band_keys(lede, p.lede_bands, p.bands))
        story.ledes.append(lede)

    def _index(self, story: _Story, keys: list[int]) -> None:
        """Put `story` in the buckets of `keys` it is not in yet (a signature it is about to keep)."""
        handle = self._by_id[story.story_id]
        for key in set(keys) - set(self._keys(story)):
            self._buckets[key] = (*self._buckets.get(key, ()), handle)

    def assign(self, doc: ClusterDoc, linked: str | None = None) -> Assignment:
        """Join the most similar matching story, else the live story `linked` (one that reports the same
        event), else open a new one with an id from `doc.item_id`.

        An item assigned before (a replay) gets its earlier story back and changes nothing.
        """
        item_key = stable_hash(doc.item_id)
        known = self._items.get(item_key)
        if known is not None:
            story = self._stories[known]
            return Assignment(story.story_id, False, 1.0, story.summary(), 1.0)
        p = self.params
        hashes, sig, lede = self._signatures(doc)
        probe = _Story("", sig, [lede], doc.event_time, doc.event_time)
        keys = self._keys(probe)
        best: tuple[float, int, float] | None = None
        rejected = 0.0
        for handle in sorted({h for key in keys for h in self._buckets.get(key, ())}):
            story = self._stories[handle]
            body_sim, lede_sim = self._body_similarity(sig, story), self._lede_similarity(lede, story)
            score = max(body_sim, lede_sim)
            if body_sim >= p.threshold or lede_sim >= p.lede_threshold:
                if best is None or score > best[0]:
                    best = (score, handle, body_sim)
            else:
                rejected = max(rejected, score)
        body_score = 0.0
        link = self._by_id.get(linked) if linked is not None and best is None else None
        if link is not None:
            story, score, new = self._stories[link], rejected, False
            self._join(story, doc)
            self._add_lede(story, lede)
            self._add_body(story, sig)
        elif best is None:
            story, score, new = self._open(probe, story_id_for(doc.item_id), keys), rejected, True
        else:
            story, score, new = self._stories[best[1]], best[0], False
            body_score = best[2]
            self._join(story, doc)
            self._add_lede(story, lede)
        self._record(story, doc, hashes, item_key)
        return Assignment(story.story_id, new, score, story.summary(), body_score, link is not None)

    def restore(self, doc: ClusterDoc, story_id: str) -> None:
        """Re-add an article already assigned to `story_id` (state rebuilt after a restart)."""
        item_key = stable_hash(doc.item_id)
        if item_key in self._items:
            return
        handle = self._by_id.get(story_id)
        hashes, sig, lede = self._signatures(doc)
        if handle is None:
            probe = _Story("", sig, [lede], doc.event_time, doc.event_time)
            story = self._open(probe, story_id, self._keys(probe))
        else:
            story = self._stories[handle]
            # Nothing in its text matched: it had joined by its event, and keeps the body it added then.
            linked = (
                self._body_similarity(sig, story) < self.params.threshold
                and self._lede_similarity(lede, story) < self.params.lede_threshold
            )
            self._join(story, doc)
            self._add_lede(story, lede)
            if linked:
                self._add_body(story, sig)
        self._record(story, doc, hashes, item_key)

    def _signatures(self, doc: ClusterDoc) -> tuple[list[int], Signature, Signature]:
        hashes: list[int] = []
        if self._boilerplate is None:
            body = tokens(doc.text)
        else:
            hashes, kept = self._boilerplate.split(doc.source_id, doc.text)
            body = [word for sentence in kept for word in content_words(sentence)]
        words = tokens(doc.title)
        title = len(words)
        word_hashes = _word_hashes(words + body)
        shingles = _shingles(word_hashes)
        lede_words = min(len(body), self.params.lede_words)
        # The lede's 3-grams are those of title + body that start in it and end by its last word.
        lede = (
            shingles[title : title + lede_words - SHINGLE + 1]
            if lede_words >= SHINGLE
            else _shingles(word_hashes[title : title + lede_words])
        )
        return hashes, _minhash(shingles, NUM_PERM), _minhash(lede, LEDE_PERM)

    @staticmethod
    def _join(story: _Story, doc: ClusterDoc) -> None:
        story.articles += 1
        story.first_seen = min(story.first_seen, doc.event_time)
        story.last_seen = max(story.last_seen, doc.event_time)

    def _record(self, story: _Story, doc: ClusterDoc, hashes: list[int], key: int) -> None:
        story.sources.add(doc.source_id)
        story.tiers.add(doc.tier)
        story.items.append(key)
        self._items[key] = self._by_id[story.story_id]
        if self._boilerplate is not None:
            self._boilerplate.record(doc.source_id, hashes, story.story_id)

    def _open(self, probe: _Story, story_id: str, keys: list[int]) -> _Story:
        probe.story_id = story_id
        handle, self._next = self._next, self._next + 1
        self._stories[handle] = probe
        self._by_id[story_id] = handle
        for key in keys:
            self._buckets[key] = (*self._buckets.get(key, ()), handle)
        return probe

    def expire(self, watermark: datetime) -> list[str]:
        """Drop stories whose last article is older than `watermark - ttl`; returns their ids."""
        if watermark.tzinfo is None:
            raise ValueError("watermark must be timezone-aware")
        cutoff = watermark - self.params.ttl
        old = [h for h, story in self._stories.items() if story.last_seen < cutoff]
        gone = []
        for handle in old:
            story = self._stories.pop(handle)
            del self._by_id[story.story_id]
            for key in story.items:
                del self._items[key]
            for key in self._keys(story):
                rest = tuple(h for h in self._buckets.pop(key) if h != handle)
                if rest:
                    self._buckets[key] = rest
            gone.append(story.story_id)
        return gone

    def stories(self) -> list[StorySummary]:
        return [story.summary() for story in self._stories.values()]

    def state_bytes(self) -> int:
        """Serialised size of the story state (what a Beam state backend stores), boilerplate excluded.

        Per story: the body signature (and those of linked reports) and its ledes, two 8-byte timestamps,
        a 4-byte count, the id, source and tier strings, an 8-byte hash per article, and one 4-byte key +
        4-byte handle per LSH band.
        """
        p = self.params
        total = 0
        for story in self._stories.values():
            strings = sum(len(s) + 1 for s in (story.story_id, *story.sources, *story.tiers))
            strings += 8 * len(story.items)
            ledes = sum(lede.nbytes + 8 * p.lede_bands for lede in story.ledes)
            bodies = sum(body.nbytes + 8 * p.bands for body in story.bodies)
            total += story.sig.nbytes + 8 * p.bands + ledes + bodies + 16 + 4 + strings
        return total
