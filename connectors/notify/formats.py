"""Alert messages in each destination's format: a signed generic webhook, Slack, Teams, PagerDuty.

Pure functions from alerts to bytes and headers, so the formats are tested without a network and a
retry re-sends exactly what was rendered. Every message links to the story in Kibana Discover, where
the analyst sees the alert's revisions and the articles behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
from schemas.alert import AlertDetails, AlertDoc
from schemas.notify import Destination

DEFAULT_TEMPLATE = "[{severity}] {topic}: {headline}"
EXPLANATION_CHARS = 300


def render(
    dest: Destination,
    alerts: Sequence[AlertDoc],
    *,
    kibana_url: str,
    secret: str | None,
    msg_id: str,
    now: datetime,
) -> Rendered:
    """One alert makes an alert message, several a digest. `msg_id` is the idempotency key (the
    alert id, or the digest's); `secret` is the webhook signing key or the PagerDuty routing key."""
    check(dest, len(alerts), now)
    links = [kibana_link(kibana_url, a.watchfloor.story_id) for a in alerts]
    payload: dict[str, Any]
    if dest.kind == "webhook":
        payload = _webhook(alerts, links, now)
    elif dest.kind == "slack":
        payload = _slack(dest, alerts, links)
    elif dest.kind == "teams":
        payload = _teams(dest, alerts, links)
    else:
        payload = _pagerduty(dest, alerts[0], links[0])
    return seal(dest, payload, secret=secret, msg_id=msg_id, now=now)


def headline(dest: Destination, alert: AlertDoc) -> str:
    """The alert's title line, from the destination's template (validated with the config)."""
    w = alert.watchfloor
    return (dest.template or DEFAULT_TEMPLATE).format(
        severity=w.severity,
        topic=w.topic,
        headline=w.headline,
        sources=w.source_count,
        actors=_actors(w),
        story_id=w.story_id,
    )


def explanation(alert: AlertDoc) -> str:
    """Why this alert, on one line: the revision's reason and the severity and topic arithmetic."""
    w = alert.watchfloor
    parts = [w.reason]
    for name in ("severity", "topic"):
        section = w.explanation.get(name)
        if isinstance(section, dict) and isinstance(section.get("arithmetic"), str):
            parts.append(f"{name} {section['arithmetic']}")
    return clip(" ".join("; ".join(parts).split()), EXPLANATION_CHARS)


def _actors(w: AlertDetails) -> str:
    return ", ".join(a.name for a in w.actors)


def _sources(w: AlertDetails) -> str:
    return f"{w.source_count} ({w.independent_sources} independent)"


def _webhook(alerts: Sequence[AlertDoc], links: Sequence[str], now: datetime) -> dict[str, Any]:
    """Every alert in full (`to_es()`, the document Kibana shows), for machines to act on."""
    items = [{"alert": a.to_es(), "kibana_url": link} for a, link in zip(alerts, links, strict=True)]
    return webhook_body(("watchfloor.alert", "watchfloor.digest"), "alerts", items, now)


def _slack(dest: Destination, alerts: Sequence[AlertDoc], links: Sequence[str]) -> dict[str, Any]:
    if len(alerts) > 1:
        return _slack_digest(alerts, links)
    alert, link = alerts[0], links[0]
    w = alert.watchfloor
    topic = w.topic + (f" ({w.modality})" if w.modality else "")
    fields = [
        f"*Severity*\n{w.severity} ({w.score:g})",
        f"*Topic*\n{esc(topic)}",
        f"*Actors*\n{esc(clip(_actors(w), 500)) or '—'}",
        f"*Sources*\n{_sources(w)}",
    ]
    return slack_message(headline(dest, alert), fields, explanation(alert), link)


def _slack_digest(alerts: Sequence[AlertDoc], links: Sequence[str]) -> dict[str, Any]:
    lines = [
        f"*{w.severity}* · {esc(w.topic)} · <{esc(link)}|{esc(clip(w.headline, 200))}>"
        for w, link in zip((a.watchfloor for a in alerts[:DIGEST_SHOWN]), links, strict=False)
    ]
    return slack_digest(f"Watchfloor digest: {len(alerts)} alerts", lines, len(alerts))


def _teams(dest: Destination, alerts: Sequence[AlertDoc], links: Sequence[str]) -> dict[str, Any]:
    if len(alerts) > 1:
        return _teams_digest(alerts, links)
    alert, link = alerts[0], links[0]
    w = alert.watchfloor
    facts = {
        "Severity": f"{w.severity} ({w.score:g})",
        "Topic": w.topic,
        "Actors": _actors(w) or "—",
        "Sources": _sources(w),
        "Modality": w.modality or "—",
    }
    return teams_message(headline(dest, alert), facts, explanation(alert), link)


def _teams_digest(alerts: Sequence[AlertDoc], links: Sequence[str]) -> dict[str, Any]:
    entries = [
        (link, [(f"{a.watchfloor.severity} · {a.watchfloor.topic}", True), (a.watchfloor.headline, False)])
        for a, link in zip(alerts[:DIGEST_SHOWN], links, strict=False)
    ]
    return teams_digest(f"Watchfloor digest: {len(alerts)} alerts", entries, len(alerts))


def _pagerduty(dest: Destination, alert: AlertDoc, link: str) -> dict[str, Any]:
    """An Events API v2 trigger; `dedup_key` is the story, so its later revisions and topics update
    one incident instead of paging again."""
    w = alert.watchfloor
    return {
        "event_action": "trigger",
        "dedup_key": w.story_id,
        "payload": {
            "summary": clip(headline(dest, alert), 1024),
            "source": "watchfloor",
            "severity": PAGERDUTY_SEVERITY[w.severity],
            "timestamp": alert.timestamp.isoformat(),
            "component": w.topic,
            "group": w.story_id,
            "class": w.topic,
            "custom_details": {
                "alert_id": w.alert_id,
                "revision": w.revision,
                "actors": [a.name for a in w.actors],
                "sources": _sources(w),
                "modality": w.modality,
                "reason": w.reason,
                "explanation": explanation(alert),
            },
        },
        "links": [{"href": link, "text": "Open in Kibana"}],
    }
