"""Alert messages in each destination's format: a signed generic webhook, Slack, Teams, PagerDuty.

Pure functions from alerts to bytes and headers, so the formats are tested without a network and a
retry re-sends exactly what was rendered. Every message links to the story in Kibana Discover, where
the analyst sees the alert's revisions and the articles behind it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias
from urllib.parse import quote

from connectors.notify import signing
from schemas.alert import AlertDetails, AlertDoc
from schemas.notify import Destination

ALERTS_DATA_VIEW = "watchfloor-alerts"
DEFAULT_TEMPLATE = "[{severity}] {topic}: {headline}"
EXPLANATION_CHARS = 300
DIGEST_SHOWN = 40
"""Alerts listed in a Slack or Teams digest (Slack allows 50 blocks a message); the rest are counted."""

_PAGERDUTY_SEVERITY = {"critical": "critical", "high": "error", "medium": "warning", "low": "info"}
_FRAGMENT_SAFE = "!'(),:"
_RISON_ID = re.compile(r"[^-0-9 '!:(),*@$][^ '!:(),*@$]*")

Rison: TypeAlias = "str | Mapping[str, Rison]"


@dataclass(frozen=True)
class Rendered:
    body: bytes
    headers: dict[str, str]


def rison(value: Rison) -> str:
    """Rison (https://github.com/Nanonid/rison), the compact notation of Kibana's URL state; only the
    strings and objects a Discover link needs."""
    if isinstance(value, str):
        if _RISON_ID.fullmatch(value):
            return value
        return "'" + value.replace("!", "!!").replace("'", "!'") + "'"
    return "(" + ",".join(f"{rison(k)}:{rison(v)}" for k, v in value.items()) + ")"


def kibana_link(kibana_url: str, story_id: str) -> str:
    """Discover on the alerts data view, filtered to the story: all its topics and revisions."""
    kql_value = story_id.replace("\\", "\\\\").replace('"', '\\"')
    g = {"time": {"from": "now-30d", "to": "now"}}
    a = {
        "dataSource": {"dataViewId": ALERTS_DATA_VIEW, "type": "dataView"},
        "query": {"language": "kuery", "query": f'watchfloor.story_id:"{kql_value}"'},
    }
    # Rison's punctuation is valid in a fragment and keeps the link readable; everything else,
    # `&`, `=`, `+`, quotes and spaces included, is percent-encoded so it cannot split the state.
    state = "&".join(
        f"{name}={quote(rison(value), safe=_FRAGMENT_SAFE)}" for name, value in (("_g", g), ("_a", a))
    )
    return f"{kibana_url.rstrip('/')}/app/discover#/?{state}"


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
    if not alerts:
        raise ValueError(f"destination {dest.id}: nothing to render")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    links = [kibana_link(kibana_url, a.watchfloor.story_id) for a in alerts]
    headers = {"Content-Type": "application/json"}
    payload: dict[str, Any]
    if dest.kind == "webhook":
        if secret is None:
            raise ValueError(f"destination {dest.id}: a webhook needs a signing secret")
        payload = _webhook(alerts, links, now)
        body = _json(payload)
        headers |= signing.headers(secret, msg_id, int(now.timestamp()), body)
        headers["Idempotency-Key"] = msg_id
        return Rendered(body, headers)
    if dest.kind == "slack":
        payload = _slack(dest, alerts, links)
    elif dest.kind == "teams":
        payload = _teams(dest, alerts, links)
    else:
        if secret is None:
            raise ValueError(f"destination {dest.id}: PagerDuty needs a routing key")
        if len(alerts) > 1:
            raise ValueError(f"destination {dest.id}: PagerDuty takes one alert per event, not digests")
        payload = _pagerduty(dest, alerts[0], links[0], routing_key=secret)
    return Rendered(_json(payload), headers)


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
    return _clip(" ".join("; ".join(parts).split()), EXPLANATION_CHARS)


def _json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _actors(w: AlertDetails) -> str:
    return ", ".join(a.name for a in w.actors)


def _sources(w: AlertDetails) -> str:
    return f"{w.source_count} ({w.independent_sources} independent)"


def _webhook(alerts: Sequence[AlertDoc], links: Sequence[str], now: datetime) -> dict[str, Any]:
    """Every alert in full (`to_es()`, the document Kibana shows), for machines to act on."""
    items = [{"alert": a.to_es(), "kibana_url": link} for a, link in zip(alerts, links, strict=True)]
    return {
        "type": "watchfloor.alert" if len(items) == 1 else "watchfloor.digest",
        "timestamp": now.astimezone(UTC).isoformat(),
        "data": items[0] if len(items) == 1 else {"alerts": items, "count": len(items)},
    }


def _esc(text: str) -> str:
    """Slack's mrkdwn control characters as entities, so an outlet's headline cannot inject links or
    mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _slack(dest: Destination, alerts: Sequence[AlertDoc], links: Sequence[str]) -> dict[str, Any]:
    if len(alerts) > 1:
        return _slack_digest(alerts, links)
    alert, link = alerts[0], links[0]
    w = alert.watchfloor
    title = headline(dest, alert)
    topic = w.topic + (f" ({w.modality})" if w.modality else "")
    return {
        "text": _esc(title),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _clip(title, 150)}},
            {
                "type": "section",
                "fields": [
                    _mrkdwn(f"*Severity*\n{w.severity} ({w.score:g})"),
                    _mrkdwn(f"*Topic*\n{_esc(topic)}"),
                    _mrkdwn(f"*Actors*\n{_esc(_clip(_actors(w), 500)) or '—'}"),
                    _mrkdwn(f"*Sources*\n{_sources(w)}"),
                ],
            },
            {"type": "context", "elements": [_mrkdwn(_esc(explanation(alert)))]},
            {"type": "section", "text": _mrkdwn(f"<{_esc(link)}|Open in Kibana>")},
        ],
    }


def _slack_digest(alerts: Sequence[AlertDoc], links: Sequence[str]) -> dict[str, Any]:
    title = f"Watchfloor digest: {len(alerts)} alerts"
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title}}]
    for alert, link in zip(alerts[:DIGEST_SHOWN], links, strict=False):
        w = alert.watchfloor
        line = f"*{w.severity}* · {_esc(w.topic)} · <{_esc(link)}|{_esc(_clip(w.headline, 200))}>"
        blocks.append({"type": "section", "text": _mrkdwn(line)})
    if len(alerts) > DIGEST_SHOWN:
        blocks.append({"type": "context", "elements": [_mrkdwn(f"and {len(alerts) - DIGEST_SHOWN} more")]})
    return {"text": title, "blocks": blocks}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """An Adaptive Card in the message envelope a Teams Workflows (Power Automate) webhook expects."""
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if actions:
        content["actions"] = actions
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": content}],
    }


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
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": headline(dest, alert),
            "weight": "bolder",
            "size": "medium",
            "wrap": True,
        },
        {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts.items()]},
        {"type": "TextBlock", "text": explanation(alert), "isSubtle": True, "size": "small", "wrap": True},
    ]
    return _card(body, [{"type": "Action.OpenUrl", "title": "Open in Kibana", "url": link}])


def _teams_digest(alerts: Sequence[AlertDoc], links: Sequence[str]) -> dict[str, Any]:
    """Each alert a container that opens its story when clicked: no markdown link syntax for a
    headline's brackets to break."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"Watchfloor digest: {len(alerts)} alerts",
            "weight": "bolder",
            "wrap": True,
        }
    ]
    for alert, link in zip(alerts[:DIGEST_SHOWN], links, strict=False):
        w = alert.watchfloor
        body.append(
            {
                "type": "Container",
                "separator": True,
                "selectAction": {"type": "Action.OpenUrl", "title": "Open in Kibana", "url": link},
                "items": [
                    {
                        "type": "TextBlock",
                        "text": f"{w.severity} · {w.topic}",
                        "isSubtle": True,
                        "wrap": True,
                    },
                    {"type": "TextBlock", "text": w.headline, "wrap": True},
                ],
            }
        )
    if len(alerts) > DIGEST_SHOWN:
        body.append({"type": "TextBlock", "text": f"and {len(alerts) - DIGEST_SHOWN} more", "isSubtle": True})
    return _card(body, [])


def _pagerduty(dest: Destination, alert: AlertDoc, link: str, *, routing_key: str) -> dict[str, Any]:
    """An Events API v2 trigger; `dedup_key` is the story, so its later revisions and topics update
    one incident instead of paging again."""
    w = alert.watchfloor
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": w.story_id,
        "payload": {
            "summary": _clip(headline(dest, alert), 1024),
            "source": "watchfloor",
            "severity": _PAGERDUTY_SEVERITY[w.severity],
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
