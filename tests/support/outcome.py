"""What one run of the job wrote, in a form two runners' runs can be compared in, difference by difference.

What must not depend on the runner or its parallelism (issue H): the same articles are written, none
lost or doubled; copies of one text that arrived on different partitions, perhaps on different workers,
are one story; no story has two alert threads of one topic that it did not get from a merge.

What may differ: single-pass clustering and alert revisions depend on the order reports arrive in, and
across partitions that order is the runner's to choose (the keyed core's input is shuffled, on Prism as
on Flink). Two related stories may then merge in one run and not in the other, a story may go through
one more revision, or become breaking in one run only (the surge baseline is learned in processing
order). So the clusterings are compared by their agreement (B-cubed F1 over the same articles), with a
bound that splitting state per worker falls far below (each copied story in two halves), and every other
difference is listed for the reader.

A story is named by its first article (ADR 0002), so stories are compared by the articles they hold,
and alerts by (story's articles, topic). Of exact copies the first to arrive is the article (the others
are dropped as duplicates), so an article is named by its content hash: the same whichever copy won. A
story merged into another is followed to the story that absorbed it, through ``merged_stories``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from elasticsearch import Elasticsearch

from pipeline.storyeval import bcubed
from tests.support.pipeline import JobEnv

Story = frozenset[str]
"""A story as the content hashes of its articles."""
AlertKey = tuple[Story, str]
"""(story, topic): an alert thread."""
AGREEMENT = 0.9
"""Least B-cubed F1 of one run's stories against the other's."""


@dataclass(frozen=True)
class Outcome:
    articles: frozenset[str]
    stories: frozenset[Story]
    copies: dict[str, frozenset[str]]
    """Title -> content hashes of the articles under it (syndicated copies keep their original's title)."""
    alerts: dict[AlertKey, tuple[str, bool]]
    """Each thread's severity at its last revision, and whether it became breaking."""
    threads: Counter[AlertKey]
    """Alert threads (story ids they were issued under) per (story, topic)."""
    merged: frozenset[Story]
    """Stories that absorbed others (each may carry a thread of each story it absorbed)."""

    @classmethod
    def of(cls, es: Elasticsearch, job: JobEnv) -> Outcome:
        docs = job.docs(es, job.articles_index)
        survivor = {merged: a["story_id"] for a in docs for merged in a.get("merged_stories", [])}

        def final(story_id: str) -> str:
            seen = set()
            while story_id in survivor and story_id not in seen:
                seen.add(story_id)
                story_id = survivor[story_id]
            return story_id

        members: dict[str, set[str]] = defaultdict(set)
        copies: dict[str, set[str]] = defaultdict(set)
        for a in docs:
            members[final(a["story_id"])].add(a["content_hash"])
            copies[a["title"]].add(a["content_hash"])
        story_of = {sid: frozenset(ids) for sid, ids in members.items()}
        last: dict[AlertKey, tuple[int, str, bool]] = {}
        issued: dict[AlertKey, set[str]] = defaultdict(set)
        for alert in job.docs(es, job.alerts_index):
            w = alert["watchfloor"]
            story = story_of.get(final(w["story_id"]), frozenset({f"<no article of {w['story_id']}>"}))
            key = (story, w["topic"])
            issued[key].add(w["story_id"])
            last[key] = max(last.get(key, (0, "", False)), (w["revision"], w["severity"], w["breaking"]))
        return cls(
            frozenset(a["content_hash"] for a in docs),
            frozenset(story_of.values()),
            {title: frozenset(hashes) for title, hashes in copies.items()},
            {key: (severity, breaking) for key, (_, severity, breaking) in last.items()},
            Counter({key: len(ids) for key, ids in issued.items()}),
            frozenset(story_of[final(s)] for s in survivor if final(s) in story_of),
        )

    def story_of(self, article: str) -> Story:
        return next(s for s in self.stories if article in s)


def _short(story: Story) -> str:
    ids = sorted(story)
    return f"{{{', '.join(i[:8] for i in ids[:4])}{', …' if len(ids) > 4 else ''}}} ({len(ids)} articles)"


def agreement(expected: Outcome, got: Outcome) -> float:
    """B-cubed F1 of `got`'s stories against `expected`'s, over the articles both wrote."""
    common = sorted(expected.articles & got.articles)
    if not common:
        return 0.0
    mine, theirs = {}, {}
    for n, story in enumerate(sorted(got.stories, key=sorted)):
        mine.update(dict.fromkeys(story, str(n)))
    for n, story in enumerate(sorted(expected.stories, key=sorted)):
        theirs.update(dict.fromkeys(story, str(n)))
    return bcubed([mine[a] for a in common], [theirs[a] for a in common]).f1


def differences(expected: Outcome, got: Outcome, label: str = "got") -> list[str]:
    """Every way `got` breaks what must hold whatever the order (see the module), one line each."""
    out = []
    lost = expected.articles - got.articles
    extra = got.articles - expected.articles
    if lost:
        out.append(f"{len(lost)} articles missing in {label}: {sorted(lost)[:5]}")
    if extra:
        out.append(f"{len(extra)} articles only in {label}: {sorted(extra)[:5]}")
    for title, hashes in sorted(got.copies.items()):
        parts = {got.story_of(h) for h in hashes}
        if len(parts) > 1:
            out.append(f"copies of {title[:50]!r} are {len(parts)} stories in {label}")
    for (story, topic), n in sorted(got.threads.items(), key=str):
        if n > 1 and story not in got.merged:
            out.append(f"story {_short(story)} has {n} {topic} alert threads in {label}")
    score = agreement(expected, got)
    if score < AGREEMENT:
        out.append(f"stories agree with B-cubed F1 {score:.3f} < {AGREEMENT} in {label}")
    return out


def order_effects(expected: Outcome, got: Outcome, label: str = "got") -> list[str]:
    """How `got`'s stories and alerts differ from `expected`'s where arrival order may decide."""
    out = []
    for story in sorted(expected.stories - got.stories, key=sorted):
        parts = [s for s in got.stories if s & story]
        out.append(f"story {_short(story)} is {len(parts)} stories in {label}: {[_short(p) for p in parts]}")
    for story, topic in sorted(expected.alerts.keys() - got.alerts.keys(), key=str):
        out.append(f"alert thread ({_short(story)}, {topic}) not in {label}")
    for story, topic in sorted(got.alerts.keys() - expected.alerts.keys(), key=str):
        out.append(f"alert thread ({_short(story)}, {topic}) only in {label}")
    for key in sorted(expected.alerts.keys() & got.alerts.keys(), key=str):
        if expected.alerts[key] != got.alerts[key]:
            out.append(
                f"alert thread ({_short(key[0])}, {key[1]}) ends {got.alerts[key]}, {expected.alerts[key]}"
            )
    return out
