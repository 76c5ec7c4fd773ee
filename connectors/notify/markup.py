"""What every notifier message shares, whatever it carries (an alert, a story, a digest): the Kibana
link, clipping and escaping, the Teams card envelope, and the sealed HTTP request, so alert and story
messages differ only in their content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias
from urllib.parse import quote

from connectors.notify import signing
from schemas.notify import Destination

ALERTS_DATA_VIEW = "watchfloor-alerts"
DIGEST_SHOWN = 40
"""Entries listed in a Slack or Teams digest (Slack allows 50 blocks a message); the rest are counted."""
TEAMS_MAX_BYTES = 26_000
"""A Teams workflow webhook refuses a message over about 28 KB (HTTP 413): a digest that renders larger
goes as several messages, and a single message's texts are clipped (`TEAMS_TEXT_CHARS`) to fit."""
TEAMS_TEXT_CHARS = 400
PAGERDUTY_SEVERITY = {"critical": "critical", "high": "error", "medium": "warning", "low": "info"}

_FRAGMENT_SAFE = "!'(),:"
_TEAMS_MARKDOWN = re.compile(r"([\\\[\]<>])")
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


def check(dest: Destination, count: int, now: datetime) -> None:
    """What every message needs: something to say, an aware time, and one incident per PagerDuty event."""
    if not count:
        raise ValueError(f"destination {dest.id}: nothing to render")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if dest.kind == "pagerduty" and count > 1:
        raise ValueError(f"destination {dest.id}: PagerDuty takes one alert per event, not digests")


def seal(
    dest: Destination, payload: Mapping[str, Any], *, secret: str | None, msg_id: str, now: datetime
) -> Rendered:
    """The request: a webhook's Standard Webhooks signature with `msg_id` as its idempotency key, or
    PagerDuty's routing key (`secret`) in the event."""
    headers = {"Content-Type": "application/json"}
    if dest.kind == "webhook":
        if secret is None:
            raise ValueError(f"destination {dest.id}: a webhook needs a signing secret")
        body = json_bytes(payload)
        headers |= signing.headers(secret, msg_id, int(now.timestamp()), body)
        headers["Idempotency-Key"] = msg_id
        return Rendered(body, headers)
    if dest.kind == "pagerduty":
        if secret is None:
            raise ValueError(f"destination {dest.id}: PagerDuty needs a routing key")
        payload = {"routing_key": secret, **payload}
    return Rendered(json_bytes(payload), headers)


def json_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def esc(text: str) -> str:
    """Slack's mrkdwn control characters as entities, so an outlet's headline cannot inject links or
    mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_escape(text: str) -> str:
    """The markdown that makes links and mentions in Teams backslash-escaped: an outlet's
    `[text](http://…)`, `<http://…>` or `<at>` shows as text, not as a link (a phishing route) or a
    mention. Emphasis is left alone: a headline in italics misleads no one."""
    return _TEAMS_MARKDOWN.sub(r"\\\1", text)


def teams_text(text: str) -> str:
    """Text from feeds or alerts as a Teams card shows it: clipped, then escaped."""
    return md_escape(clip(text, TEAMS_TEXT_CHARS))


def fits(dest: Destination, message: Rendered) -> bool:
    """Whether the destination accepts a message this large (only Teams has a limit our digests reach)."""
    return dest.kind != "teams" or len(message.body) <= TEAMS_MAX_BYTES


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
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


def webhook_body(
    types: tuple[str, str], plural: str, items: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """The signed-webhook envelope: one item under ``types[0]``, several as a digest under ``types[1]``,
    listed under `plural` with their count."""
    single, digest = types
    return {
        "type": single if len(items) == 1 else digest,
        "timestamp": now.astimezone(UTC).isoformat(),
        "data": items[0] if len(items) == 1 else {plural: items, "count": len(items)},
    }


def slack_message(title: str, fields: list[str], note: str, link: str) -> dict[str, Any]:
    """One alert or story in Slack: a header, its fields (already mrkdwn), a note, the Kibana link.
    `title` is raw text (a plain-text header needs no escaping), `note` too."""
    return {
        "text": esc(title),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": clip(title, 150)}},
            {"type": "section", "fields": [mrkdwn(field) for field in fields]},
            {"type": "context", "elements": [mrkdwn(esc(note))]},
            {"type": "section", "text": mrkdwn(f"<{esc(link)}|Open in Kibana>")},
        ],
    }


def slack_digest(title: str, lines: list[str], total: int) -> dict[str, Any]:
    """A digest in Slack: one section per shown line (already mrkdwn), and how many were left out of
    `total`."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title}}]
    blocks += [{"type": "section", "text": mrkdwn(line)} for line in lines]
    if total > len(lines):
        blocks.append({"type": "context", "elements": [mrkdwn(f"and {total - len(lines)} more")]})
    return {"text": title, "blocks": blocks}


def teams_message(title: str, facts: Mapping[str, str], note: str, link: str) -> dict[str, Any]:
    """One alert or story as a Teams card: a bold title, its facts, a subtle note, the Kibana link; all
    of them raw text, clipped and escaped here."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": teams_text(title), "weight": "bolder", "size": "medium", "wrap": True},
        {"type": "FactSet", "facts": [{"title": k, "value": teams_text(v)} for k, v in facts.items()]},
        {"type": "TextBlock", "text": teams_text(note), "isSubtle": True, "size": "small", "wrap": True},
    ]
    return card(body, [{"type": "Action.OpenUrl", "title": "Open in Kibana", "url": link}])


def teams_digest(title: str, entries: list[tuple[str, list[tuple[str, bool]]]], total: int) -> dict[str, Any]:
    """A digest as a Teams card: each entry (link, its text lines with whether each is subtle) a
    container that opens the link when clicked, so no markdown link syntax is there for a headline's
    brackets to break; and how many of `total` were left out. The lines are raw text, clipped and escaped
    here."""
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": title, "weight": "bolder", "wrap": True}]
    for link, lines in entries:
        items: list[dict[str, Any]] = []
        for text, subtle in lines:
            block: dict[str, Any] = {"type": "TextBlock", "text": teams_text(text)}
            if subtle:
                block["isSubtle"] = True
            items.append({**block, "wrap": True})
        body.append(
            {
                "type": "Container",
                "separator": True,
                "selectAction": {"type": "Action.OpenUrl", "title": "Open in Kibana", "url": link},
                "items": items,
            }
        )
    if total > len(entries):
        body.append({"type": "TextBlock", "text": f"and {total - len(entries)} more", "isSubtle": True})
    return card(body, [])
