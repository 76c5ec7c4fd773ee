"""Per-source boilerplate filter: sentences one outlet repeats across different stories.

Newsletter prompts, copyright lines and "follow us" footers would otherwise make short, unrelated
items of one outlet look alike. A sentence counts as boilerplate once the same source has used it
in `min_stories` distinct stories; counting stories rather than items keeps a story's own updates
(same sentences, same source) from erasing themselves. Memory is bounded by LRU caps on sources and
on sentences per source (plain dicts, which keep insertion order, as LRUs: half an OrderedDict's size).
"""

from __future__ import annotations

from pipeline.textnorm import normalised_sentences, stable_hash


class BoilerplateFilter:
    def __init__(self, min_stories: int = 2, max_sentences: int = 2048, max_sources: int = 10_000) -> None:
        if min_stories < 1:
            raise ValueError("min_stories must be at least 1")
        self.min_stories = min_stories
        self.max_sentences = max_sentences
        self.max_sources = max_sources
        self._sources: dict[str, dict[int, tuple[str, ...]]] = {}

    def split(self, source_id: str, text: str) -> tuple[list[int], list[str]]:
        """Hashes of all sentences of `text` (for `record`) and its normalised non-boilerplate sentences."""
        seen = self._sources.get(source_id, {})
        hashes: list[int] = []
        kept: list[str] = []
        for sentence in normalised_sentences(text):
            digest = stable_hash(sentence)
            hashes.append(digest)
            if len(seen.get(digest, ())) < self.min_stories:
                kept.append(sentence)
        return hashes, kept

    def record(self, source_id: str, hashes: list[int], story_id: str) -> None:
        """Remember that `source_id` used these sentences in `story_id`."""
        seen = self._sources[source_id] = self._sources.pop(source_id, {})
        if len(self._sources) > self.max_sources:
            del self._sources[next(iter(self._sources))]
        for digest in hashes:
            stories = seen.pop(digest, ())
            if story_id not in stories and len(stories) < self.min_stories:
                stories = (*stories, story_id)
            seen[digest] = stories
        while len(seen) > self.max_sentences:
            del seen[next(iter(seen))]
