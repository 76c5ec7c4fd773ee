"""Story messages in every destination format (connectors/notify/story_formats.py): one message lists
the story's topics with modality and severity, its actors, independent sources, why it is sent, and
links to Kibana."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.notify import signing
from connectors.notify.markup import DIGEST_SHOWN, kibana_link
from connectors.notify.story import StoryState, Told, TopicLine
from connectors.notify.story_formats import render_resolve, render_stories
from schemas.article import ActorRef
from schemas.notify import Destination, DestinationKind

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=2)
KIBANA = "https://kibana.example:5601/"
SECRET = "whsec_" + base64.b64encode(b"a signing key for tests").decode()
KIM = ActorRef(id="person:kim-jong-un", name="Kim Jong Un", type="person", country="PRK")
PRK = ActorRef(id="PRK", name="North Korea", type="country", country="PRK")
ARMS = TopicLine(
    alert_id="a-arms-1", revision=1, severity="critical", score=88, modality="planned_or_possible"
)
VISIT = TopicLine(alert_id="a-visit-1", revision=1, severity="high", score=71.5, modality=None)


def _story(
    story_id: str = "st-kim",
    headline: str = "Kim Jong Un may travel to Russia for arms talks",
    told: Told | None = None,
    independent: int = 1,
    **topics: TopicLine,
) -> StoryState:
    return StoryState(
        story_id=story_id,
        headline=headline,
        url="https://wire-global.example/news/kim",
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=1),
        articles=3,
        source_count=3,
        independent_sources=independent,
        actors=(KIM, PRK),
        topics=topics or {"leader_visit": VISIT, "arms_transfer": ARMS},
        told=told,
        updated=T0 + timedelta(minutes=1, seconds=5),
    )


UPDATE = _story(
    told=Told(
        messages=1,
        topics={"arms_transfer": "planned_or_possible"},
        severity="critical",
        independent_sources=1,
    ),
    independent=2,
)
"""The second message: leader_visit is new to the destination, and a second outlet confirmed it."""


def _dest(kind: DestinationKind, **fields: Any) -> Destination:
    secret_env = "KEY" if kind in ("webhook", "pagerduty") else None
    return Destination(id=f"on-call-{kind}", kind=kind, url_env="URL", secret_env=secret_env, **fields)


def _render(kind: DestinationKind, stories: list[StoryState], **fields: Any) -> tuple[dict[str, Any], Any]:
    message = render_stories(
        _dest(kind, **fields), stories, kibana_url=KIBANA, secret=SECRET, msg_id="story-1", now=NOW
    )
    assert message.headers["Content-Type"] == "application/json"
    return json.loads(message.body), message


# Generic webhook


def test_webhook_story_message_lists_every_topic_and_is_signed() -> None:
    body, message = _render("webhook", [_story()])
    assert body["type"] == "watchfloor.story"
    assert body["timestamp"] == NOW.isoformat()
    story = body["data"]
    assert story == {
        "story_id": "st-kim",
        "headline": "Kim Jong Un may travel to Russia for arms talks",
        "url": "https://wire-global.example/news/kim",
        "severity": "critical",
        "first_seen": "2026-05-04T06:00:00+00:00",
        "last_seen": "2026-05-04T06:01:00+00:00",
        "articles": 3,
        "sources": 3,
        "independent_sources": 1,
        "breaking": None,
        "actors": [
            {"id": "person:kim-jong-un", "name": "Kim Jong Un", "type": "person", "country": "PRK"},
            {"id": "PRK", "name": "North Korea", "type": "country", "country": "PRK"},
        ],
        "topics": [  # most severe first
            {
                "topic": "arms_transfer",
                "alert_id": "a-arms-1",
                "revision": 1,
                "severity": "critical",
                "score": 88.0,
                "modality": "planned_or_possible",
            },
            {
                "topic": "leader_visit",
                "alert_id": "a-visit-1",
                "revision": 1,
                "severity": "high",
                "score": 71.5,
                "modality": None,
            },
        ],
        "update": {
            "message": 1,
            "reason": "new_story",
            "changes": [{"kind": "new_story", "text": "new story"}],
        },
        "kibana_url": kibana_link(KIBANA, "st-kim"),
    }
    h = message.headers
    assert (h["webhook-id"], h["Idempotency-Key"]) == ("story-1", "story-1")
    signed = f"story-1.{int(NOW.timestamp())}.".encode() + message.body
    mac = hmac.new(b"a signing key for tests", signed, hashlib.sha256).digest()
    assert h["webhook-signature"] == "v1," + base64.b64encode(mac).decode()
    assert signing.verify(SECRET, h, message.body, now=int(NOW.timestamp()))


def test_webhook_update_gives_its_number_and_material_changes() -> None:
    body, _ = _render("webhook", [UPDATE])
    assert body["data"]["update"] == {
        "message": 2,
        "reason": "new_topic",
        "changes": [
            {"kind": "new_topic", "text": "new topic leader_visit"},
            {"kind": "corroborated", "text": "2 independent sources (were 1)"},
        ],
    }


def test_webhook_story_digest_lists_every_story() -> None:
    stories = [_story("st-1"), _story("st-2", arms_transfer=ARMS)]
    body, _ = _render("webhook", stories)
    assert body["type"] == "watchfloor.story_digest"
    assert body["data"]["count"] == 2
    assert [s["story_id"] for s in body["data"]["stories"]] == ["st-1", "st-2"]
    assert [t["topic"] for t in body["data"]["stories"][1]["topics"]] == ["arms_transfer"]
    assert body["data"]["stories"][1]["kibana_url"] == kibana_link(KIBANA, "st-2")


# Slack


def test_slack_story_message() -> None:
    body, message = _render("slack", [UPDATE])
    assert set(message.headers) == {"Content-Type"}
    title = "[critical] arms_transfer, leader_visit: Kim Jong Un may travel to Russia for arms talks"
    assert body["text"] == title
    header, section, context, link = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": title}}
    assert [f["text"] for f in section["fields"]] == [
        "*Severity*\ncritical",
        "*Topics*\narms_transfer: critical (88), planned or possible\nleader_visit: high (71.5)",
        "*Actors*\nKim Jong Un, North Korea",
        "*Sources*\n3 (2 independent)",
    ]
    assert (
        context["elements"][0]["text"] == "update 2: new topic leader_visit; 2 independent sources (were 1)"
    )
    assert link["text"]["text"] == f"<{kibana_link(KIBANA, 'st-kim').replace('&', '&amp;')}|Open in Kibana>"


def test_slack_escapes_and_clips_what_outlets_wrote() -> None:
    body, _ = _render(
        "slack", [_story(headline="<!channel> Guns & <http://evil.example|butter> " + "x" * 300)]
    )
    assert body["text"].startswith(
        "[critical] arms_transfer, leader_visit: &lt;!channel&gt; Guns &amp; &lt;http"
    )
    assert len(body["blocks"][0]["text"]["text"]) == 150
    many = {f"topic_{i:02d}": VISIT for i in range(60)}
    body, _ = _render("slack", [_story(**many)])
    topics_field = body["blocks"][1]["fields"][1]["text"]
    assert len(topics_field) <= 2000  # Slack's limit for a field
    assert topics_field.endswith("…")


def test_slack_story_digest() -> None:
    body, _ = _render("slack", [_story("st-1", "First"), UPDATE])
    assert body["text"] == "Watchfloor digest: 2 stories"
    lines = [b["text"]["text"] for b in body["blocks"][1:]]
    link = kibana_link(KIBANA, "st-1").replace("&", "&amp;")
    assert lines[0] == f"*critical · arms_transfer, leader_visit* · <{link}|First> · new story"
    assert lines[1].endswith("· update 2: new topic leader_visit; 2 independent sources (were 1)")
    body, _ = _render("slack", [_story(f"st-{i}") for i in range(DIGEST_SHOWN + 3)])
    assert len(body["blocks"]) <= 50
    assert body["blocks"][-1]["elements"][0]["text"] == "and 3 more"


# Teams


def test_teams_story_card() -> None:
    body, _ = _render("teams", [UPDATE])
    card = body["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    title, facts, update = card["body"]
    assert (
        title["text"]
        == "\\[critical\\] arms_transfer, leader_visit: Kim Jong Un may travel to Russia for arms talks"
    )
    assert {f["title"]: f["value"] for f in facts["facts"]} == {
        "Severity": "critical",
        "Topics": "arms_transfer: critical (88), planned or possible; leader_visit: high (71.5)",
        "Actors": "Kim Jong Un, North Korea",
        "Sources": "3 (2 independent)",
    }
    assert update["text"] == "update 2: new topic leader_visit; 2 independent sources (were 1)"
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open in Kibana", "url": kibana_link(KIBANA, "st-kim")}
    ]


def test_teams_story_digest() -> None:
    body, _ = _render("teams", [_story("st-1", "First"), _story("st-2", "Second", arms_transfer=ARMS)])
    card = body["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Watchfloor digest: 2 stories"
    containers = card["body"][1:]
    assert [c["selectAction"]["url"] for c in containers] == [
        kibana_link(KIBANA, "st-1"),
        kibana_link(KIBANA, "st-2"),
    ]
    assert [[i["text"] for i in c["items"]] for c in containers] == [
        ["critical · arms_transfer, leader_visit", "First", "new story"],
        ["critical · arms_transfer", "Second", "new story"],
    ]


# PagerDuty


@pytest.mark.parametrize(
    ("severity", "expected"), [("critical", "critical"), ("high", "error"), ("low", "info")]
)
def test_pagerduty_story_event(severity: str, expected: str) -> None:
    top = ARMS.model_copy(update={"severity": severity})
    body, _ = _render(
        "pagerduty", [_story(arms_transfer=top, leader_visit=VISIT.model_copy(update={"severity": "low"}))]
    )
    assert (body["routing_key"], body["event_action"], body["dedup_key"]) == (SECRET, "trigger", "st-kim")
    payload = body["payload"]
    assert payload["severity"] == expected  # the story's: its highest topic's
    assert (
        payload["summary"]
        == f"[{severity}] arms_transfer, leader_visit: Kim Jong Un may travel to Russia for arms talks"
    )
    assert (payload["component"], payload["group"], payload["class"]) == ("arms_transfer", "st-kim", "story")
    assert payload["timestamp"] == "2026-05-04T06:01:05+00:00"
    assert payload["custom_details"]["alert_ids"] == ["a-arms-1", "a-visit-1"]
    assert payload["custom_details"]["update"] == "new story"
    assert body["links"] == [{"href": kibana_link(KIBANA, "st-kim"), "text": "Open in Kibana"}]


def test_pagerduty_resolve_event_closes_the_storys_incident() -> None:
    message = render_resolve(_dest("pagerduty"), _story(), secret=SECRET, now=NOW)
    assert json.loads(message.body) == {
        "routing_key": SECRET,
        "event_action": "resolve",
        "dedup_key": "st-kim",
    }
    with pytest.raises(ValueError, match="PagerDuty"):
        render_resolve(_dest("webhook"), _story(), secret=SECRET, now=NOW)


def test_pagerduty_refuses_a_story_digest_and_clips_the_summary() -> None:
    with pytest.raises(ValueError, match="digest"):
        _render("pagerduty", [_story("st-1"), _story("st-2")])
    body, _ = _render("pagerduty", [_story(headline="war " * 400)])
    assert len(body["payload"]["summary"]) == 1024


# Templates


def test_the_template_sees_the_storys_topics_and_severity() -> None:
    body, _ = _render("slack", [UPDATE], template="{severity}|{topic}|{sources}|{actors}|{story_id}")
    assert (
        body["blocks"][0]["text"]["text"]
        == "critical|arms_transfer, leader_visit|3|Kim Jong Un, North Korea|st-kim"
    )
