"""What one run of the job wrote, in a form two runners' runs can be compared in, difference by difference.

A story is named by its first article (ADR 0002), and which of two partitions is read first is the
runner's choice, so stories are compared by the articles they hold and alerts by (story's articles,
topic, revision). A story merged into another after some of its articles were written is followed to
the story that absorbed it, through the merging articles' ``merged_stories``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from elasticsearch import Elasticsearch

from tests.support.pipeline import JobEnv

Story = frozenset[str]
"""A story as the ids of its articles."""
AlertKey = tuple[Story, str, int]
"""(story, topic, revision)."""


@dataclass(frozen=True)
class Outcome:
    articles: frozenset[str]
    stories: frozenset[Story]
    alerts: Counter[AlertKey]
    names: dict[Story, str]
    """The story_id each story has in this run."""

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

        members: dict[str, set[str]] = {}
        for a in docs:
            members.setdefault(final(a["story_id"]), set()).add(a["article_id"])
        story_of = {sid: frozenset(ids) for sid, ids in members.items()}
        alerts: Counter[AlertKey] = Counter()
        for alert in job.docs(es, job.alerts_index):
            w = alert["watchfloor"]
            story = story_of.get(final(w["story_id"]), frozenset({f"<no article of {w['story_id']}>"}))
            alerts[(story, w["topic"], w["revision"])] += 1
        return cls(
            frozenset(a["article_id"] for a in docs),
            frozenset(story_of.values()),
            alerts,
            {story: sid for sid, story in story_of.items()},
        )


def differences(expected: Outcome, got: Outcome, label: str = "got") -> list[str]:
    """Every way `got` differs from `expected`, one readable line each; empty when they agree."""

    def short(story: Story) -> str:
        ids = sorted(story)
        return f"{{{', '.join(i[:8] for i in ids[:4])}{', …' if len(ids) > 4 else ''}}} ({len(ids)} articles)"

    out = []
    lost = expected.articles - got.articles
    extra = got.articles - expected.articles
    if lost:
        out.append(f"{len(lost)} articles missing in {label}: {sorted(lost)[:5]}")
    if extra:
        out.append(f"{len(extra)} articles only in {label}: {sorted(extra)[:5]}")
    for story in sorted(expected.stories - got.stories, key=sorted):
        parts = [s for s in got.stories if s & story]
        out.append(f"story {short(story)} is {len(parts)} stories in {label}: {[short(p) for p in parts]}")
    for story in sorted(got.stories - expected.stories, key=sorted):
        if not any(story & s for s in expected.stories):
            out.append(f"story {short(story)} only in {label}")
    for (story, topic, revision), n in sorted((expected.alerts - got.alerts).items(), key=str):
        out.append(f"alert ({short(story)}, {topic}, revision {revision}) x{n} missing in {label}")
    for (story, topic, revision), n in sorted((got.alerts - expected.alerts).items(), key=str):
        out.append(f"alert ({short(story)}, {topic}, revision {revision}) x{n} extra in {label}")
    return out
