"""Operational alerts (a source silent or failing, and its recovery) in each destination's format.

Pure, like the news formats: the same seal (a signed webhook, PagerDuty's routing key), the same Slack
escaping and Teams card envelope, but no story and no Kibana link: the subject is one of our feeds.
PagerDuty gets a trigger, and a resolve for the clear, under one ``dedup_key`` (the episode's id).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connectors.notify.markup import (
    DIGEST_SHOWN,
    PAGERDUTY_SEVERITY,
    Rendered,
    card,
    check,
    clip,
    esc,
    mrkdwn,
    seal,
)
from schemas.notify import Destination
from schemas.opsalert import OpsAlert

PAGERDUTY_SOURCE = "watchfloor-ingest"


def title(alert: OpsAlert) -> str:
    state = "recovered" if alert.status == "cleared" else alert.kind.replace("_", " ")
    return f"[{alert.severity}] source {state}: {alert.subject}"


def render_ops(
    dest: Destination, alerts: Sequence[OpsAlert], *, secret: str | None, msg_id: str, now: datetime
) -> Rendered:
    """One operational alert, or a digest of several; ``msg_id`` is the idempotency key."""
    check(dest, len(alerts), now)
    payload: dict[str, Any]
    heading = title(alerts[0]) if len(alerts) == 1 else f"Watchfloor sources: {len(alerts)} changes"
    if dest.kind == "webhook":
        payload = {
            "type": "ops_alert" if len(alerts) == 1 else "ops_digest",
            "sent_at": now.isoformat(),
            "ops_alerts": [a.model_dump(mode="json") for a in alerts],
        }
    elif dest.kind == "slack":
        shown = alerts[:DIGEST_SHOWN]
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": clip(heading, 150)}}
        ]
        blocks += [{"type": "section", "text": mrkdwn(f"*{esc(title(a))}*\n{esc(a.message)}")} for a in shown]
        if len(alerts) > len(shown):
            blocks.append({"type": "context", "elements": [mrkdwn(f"and {len(alerts) - len(shown)} more")]})
        payload = {"text": esc(heading), "blocks": blocks}
    elif dest.kind == "teams":
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": heading, "weight": "bolder", "wrap": True}
        ]
        for a in alerts[:DIGEST_SHOWN]:
            body += [
                {"type": "TextBlock", "text": title(a), "separator": True, "wrap": True},
                {"type": "TextBlock", "text": a.message, "isSubtle": True, "wrap": True},
            ]
        payload = card(body, [])
    else:
        alert = alerts[0]
        payload = {
            "event_action": "resolve" if alert.status == "cleared" else "trigger",
            "dedup_key": alert.ops_id,
            "payload": {
                "summary": clip(f"{title(alert)}: {alert.message}", 1024),
                "source": PAGERDUTY_SOURCE,
                "severity": PAGERDUTY_SEVERITY[alert.severity],
                "component": alert.subject,
                "group": alert.tier,
                "class": alert.kind,
                "custom_details": alert.details,
            },
        }
    return seal(dest, payload, secret=secret, msg_id=msg_id, now=now)
