"""Story messages in each destination's format: one message for a story's topics, and digests of
stories.

Pure, like the alert formats (connectors/notify/formats.py), with which they share the request,
links and escaping (connectors/notify/markup.py). A message shows the story as the destination's
routes let it see it: its topics (severity, score, modality), actors, sources (independent ones
counted apart from syndicated copies), why it is sent (new story, or the material changes of an
update), and the Kibana link to every alert revision behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connectors.notify.formats import DEFAULT_TEMPLATE, EXPLANATION_CHARS
from connectors.notify.markup import (
    DIGEST_SHOWN,
    PAGERDUTY_SEVERITY,
    Rendered,
    check,
    clip,
    esc,
    kibana_link,
    seal,
    slack_digest,
    slack_message,
    teams_digest,
    teams_message,
    webhook_body,
)
from connectors.notify.story import StoryState, TopicLine
from schemas.notify import SEVERITY_ORDER, Destination

TOPICS_CHARS = 1000
"""The topic list in a Slack field (Slack allows 2,000 characters a field)."""


def render_stories(
    dest: Destination,
    stories: Sequence[StoryState],
    *,
    kibana_url: str,
    secret: str | None,
    msg_id: str,
    now: datetime,
) -> Rendered:
    """One story makes a story message, several a digest of stories. `msg_id` is the idempotency key
    (`StoryState.message_id`, or the digest's); `secret` is the signing or routing key."""
    check(dest, len(stories), now)
    links = [kibana_link(kibana_url, s.story_id) for s in stories]
    payload: dict[str, Any]
    if dest.kind == "webhook":
        payload = _webhook(stories, links, now)
    elif dest.kind == "slack":
        payload = _slack(dest, stories, links)
    elif dest.kind == "teams":
        payload = _teams(dest, stories, links)
    else:
        payload = _pagerduty(dest, stories[0], links[0])
    return seal(dest, payload, secret=secret, msg_id=msg_id, now=now)


def topics(story: StoryState) -> list[tuple[str, TopicLine]]:
    """The story's topics, most severe first."""
    return sorted(story.topics.items(), key=lambda kv: (-SEVERITY_ORDER.index(kv[1].severity), kv[0]))


def headline(dest: Destination, story: StoryState) -> str:
    """The story's title line from the destination's template: {topic} lists its topics and
    {severity} is the highest of theirs."""
    title = (dest.template or DEFAULT_TEMPLATE).format(
        severity=story.severity,
        topic=", ".join(t for t, _ in topics(story)),
        headline=story.headline,
        sources=story.source_count,
        actors=_actors(story),
        story_id=story.story_id,
    )
    return f"BREAKING {title}" if story.breaking else title


def update_line(story: StoryState) -> str:
    """Why this message: "new story", or the update's number and its material changes."""
    changes = "; ".join(c.text for c in story.changes())
    if story.told is None:
        return changes
    return clip(f"update {story.told.messages + 1}: {changes}", EXPLANATION_CHARS)


def _topic_line(topic: str, line: TopicLine) -> str:
    modality = f", {line.modality.replace('_', ' ')}" if line.modality else ""
    return f"{topic}: {line.severity} ({line.score:g}){modality}"


def _actors(story: StoryState) -> str:
    return ", ".join(a.name for a in story.actors)


def _sources(story: StoryState) -> str:
    return f"{story.source_count} ({story.independent_sources} independent)"


def _story_json(story: StoryState, link: str) -> dict[str, Any]:
    changes = story.changes()
    return {
        "story_id": story.story_id,
        "headline": story.headline,
        "url": story.url,
        "severity": story.severity,
        "first_seen": story.first_seen.isoformat(),
        "last_seen": story.last_seen.isoformat(),
        "articles": story.articles,
        "sources": story.source_count,
        "independent_sources": story.independent_sources,
        "breaking": story.breaking,
        "actors": [a.model_dump(mode="json", exclude_none=True) for a in story.actors],
        "topics": [{"topic": t, **line.model_dump(mode="json")} for t, line in topics(story)],
        "update": {
            "message": (story.told.messages if story.told else 0) + 1,
            "reason": changes[0].kind,
            "changes": [{"kind": c.kind, "text": c.text} for c in changes],
        },
        "kibana_url": link,
    }


def _webhook(stories: Sequence[StoryState], links: Sequence[str], now: datetime) -> dict[str, Any]:
    """The story with each topic's alert id and revision: the alert documents are in Elasticsearch."""
    items = [_story_json(s, link) for s, link in zip(stories, links, strict=True)]
    return webhook_body(("watchfloor.story", "watchfloor.story_digest"), "stories", items, now)


def _slack(dest: Destination, stories: Sequence[StoryState], links: Sequence[str]) -> dict[str, Any]:
    if len(stories) > 1:
        return _slack_digest(stories, links)
    story, link = stories[0], links[0]
    lines = "\n".join(_topic_line(t, line) for t, line in topics(story))
    fields = [
        f"*Severity*\n{story.severity}",
        f"*Topics*\n{esc(clip(lines, TOPICS_CHARS))}",
        f"*Actors*\n{esc(clip(_actors(story), 500)) or '—'}",
        f"*Sources*\n{_sources(story)}",
    ]
    return slack_message(headline(dest, story), fields, update_line(story), link)


def _digest_line(story: StoryState) -> str:
    return f"{story.severity} · {', '.join(t for t, _ in topics(story))}"


def _slack_digest(stories: Sequence[StoryState], links: Sequence[str]) -> dict[str, Any]:
    lines = [
        f"*{esc(_digest_line(story))}* · <{esc(link)}|{esc(clip(story.headline, 200))}>"
        f" · {esc(update_line(story))}"
        for story, link in zip(stories[:DIGEST_SHOWN], links, strict=False)
    ]
    return slack_digest(f"Watchfloor digest: {len(stories)} stories", lines, len(stories))


def _teams(dest: Destination, stories: Sequence[StoryState], links: Sequence[str]) -> dict[str, Any]:
    if len(stories) > 1:
        return _teams_digest(stories, links)
    story, link = stories[0], links[0]
    facts = {
        "Severity": story.severity,
        "Topics": "; ".join(_topic_line(t, line) for t, line in topics(story)),
        "Actors": _actors(story) or "—",
        "Sources": _sources(story),
    }
    return teams_message(headline(dest, story), facts, update_line(story), link)


def _teams_digest(stories: Sequence[StoryState], links: Sequence[str]) -> dict[str, Any]:
    entries = [
        (link, [(_digest_line(story), True), (story.headline, False), (update_line(story), True)])
        for story, link in zip(stories[:DIGEST_SHOWN], links, strict=False)
    ]
    return teams_digest(f"Watchfloor digest: {len(stories)} stories", entries, len(stories))


def _pagerduty(dest: Destination, story: StoryState, link: str) -> dict[str, Any]:
    """An Events API v2 trigger with `dedup_key` = the story: its updates update one incident."""
    ordered = topics(story)
    return {
        "event_action": "trigger",
        "dedup_key": story.story_id,
        "payload": {
            "summary": clip(headline(dest, story), 1024),
            "source": "watchfloor",
            "severity": PAGERDUTY_SEVERITY[story.severity],
            "timestamp": story.updated.isoformat(),
            "component": ordered[0][0],
            "group": story.story_id,
            "class": "story",
            "custom_details": {
                "topics": [_topic_line(t, line) for t, line in ordered],
                "alert_ids": [line.alert_id for _, line in ordered],
                "actors": [a.name for a in story.actors],
                "sources": _sources(story),
                "update": update_line(story),
            },
        },
        "links": [{"href": link, "text": "Open in Kibana"}],
    }


def render_resolve(dest: Destination, story: StoryState, *, secret: str | None, now: datetime) -> Rendered:
    """PagerDuty's resolve event for the story's incident: the same `dedup_key` its triggers carried."""
    if dest.kind != "pagerduty":
        raise ValueError(f"destination {dest.id}: only PagerDuty incidents are resolved")
    payload = {"event_action": "resolve", "dedup_key": story.story_id}
    return seal(dest, payload, secret=secret, msg_id=story.story_id, now=now)
