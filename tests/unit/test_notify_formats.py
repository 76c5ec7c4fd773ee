import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from pydantic import ValidationError

from connectors.notify import signing
from connectors.notify.formats import render
from connectors.notify.markup import DIGEST_SHOWN, TEAMS_MAX_BYTES, kibana_link, rison
from pipeline.alerting import build_alert
from pipeline.scoring import SeverityScore
from pipeline.stories import StoryView, TopicFact
from schemas.alert import AlertDoc
from schemas.article import ActorRef
from schemas.notify import Destination, DestinationKind

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=2)
KIBANA = "https://kibana.example:5601/"
SECRET = "whsec_" + base64.b64encode(b"a signing key for tests").decode()
KIM = ActorRef(id="person:kim-jong-un", name="Kim Jong Un", type="person", country="PRK")
PRK = ActorRef(id="PRK", name="North Korea", type="country", country="PRK")
SEVERITY_ARITHMETIC = "100 * topic 0.55 * actors 1.6 (PRK) * corroboration 1.00 (1 independent) = 88.0 → 88"


def _alert(
    story_id: str = "st-kim", headline: str = "Kim Jong Un may travel to Russia for arms talks"
) -> AlertDoc:
    fact = TopicFact(
        "arms_transfer",
        "military",
        6.0,
        3.0,
        "planned_or_possible",
        "art-1",
        {"topic": "arms_transfer", "arithmetic": "arms talks 3 + visit 3\n= 6 ≥ threshold 3"},
    )
    story = StoryView(
        story_id=story_id,
        headline=headline,
        url="https://wire-global.example/news/kim",
        first_seen=T0,
        last_seen=T0,
        articles=2,
        sources=("copy-desk", "wire-global"),
        independent_sources=("wire-global",),
        tiers=("wire",),
        topics=(fact,),
        actors=(KIM, PRK),
    )
    severity = SeverityScore(88, "critical", {"topic": 0.55}, SEVERITY_ARITHMETIC)
    return build_alert(story, fact, severity, revision=1, reason="new_story", now=T0)


def _with(alert: AlertDoc, **watchfloor: Any) -> AlertDoc:
    doc = alert.to_es()
    doc["watchfloor"] |= watchfloor
    return AlertDoc.model_validate(doc)


def _dest(kind: DestinationKind, **fields: Any) -> Destination:
    secret_env = "KEY" if kind in ("webhook", "pagerduty") else None
    return Destination(id=f"on-call-{kind}", kind=kind, url_env="URL", secret_env=secret_env, **fields)


def _render(kind: DestinationKind, alerts: list[AlertDoc], **fields: Any) -> tuple[dict[str, Any], Any]:
    message = render(_dest(kind, **fields), alerts, kibana_url=KIBANA, secret=SECRET, msg_id="msg-1", now=NOW)
    assert message.headers["Content-Type"] == "application/json"
    return json.loads(message.body), message


def _texts(value: Any) -> list[str]:
    """Every string in a JSON document, for 'does the message show X' checks."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return [value] if isinstance(value, str) else []


# Kibana links


def test_rison_strings_and_objects() -> None:
    assert rison("now-30d") == "now-30d"
    assert rison("dataView") == "dataView"
    assert rison("") == "''"
    assert rison("-1") == "'-1'"
    assert rison("it's done!") == "'it!'s done!!'"
    assert rison({"a": {"b": "c d"}, "e": "f"}) == "(a:(b:'c d'),e:f)"


def test_kibana_link_is_one_valid_url_with_the_story_query() -> None:
    link = kibana_link(KIBANA, "st-kim")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "kibana.example:5601", "/app/discover")
    assert not any(c in link for c in ' "<>')
    state = parse_qs(urlsplit(parts.fragment).query)
    assert state == {
        "_g": ["(time:(from:now-30d,to:now))"],
        "_a": [
            "(dataSource:(dataViewId:watchfloor-alerts,type:dataView),"
            "query:(language:kuery,query:'watchfloor.story_id:\"st-kim\"'))"
        ],
    }
    assert 'watchfloor.story_id:"st-kim"' in unquote(parts.fragment)


def test_kibana_link_escapes_an_awkward_story_id() -> None:
    link = kibana_link("http://127.0.0.1:5601", "st-a&b='c\"!")
    assert link.startswith("http://127.0.0.1:5601/app/discover#/?_g=")
    state = parse_qs(urlsplit(urlsplit(link).fragment).query)
    assert set(state) == {"_g", "_a"}
    assert "query:'watchfloor.story_id:\"st-a&b=!'c\\\"!!\"'" in state["_a"][0]


# Generic webhook


def test_webhook_alert_is_signed_and_carries_the_alert_document() -> None:
    alert = _alert()
    body, message = _render("webhook", [alert])
    assert body == {
        "type": "watchfloor.alert",
        "timestamp": NOW.isoformat(),
        "data": {"alert": alert.to_es(), "kibana_url": kibana_link(KIBANA, "st-kim")},
    }
    h = message.headers
    assert (h["webhook-id"], h["Idempotency-Key"], h["webhook-timestamp"]) == (
        "msg-1",
        "msg-1",
        str(int(NOW.timestamp())),
    )
    # Independently of the signing module: HMAC-SHA256 over "id.timestamp.body" with the decoded key.
    signed = f"msg-1.{int(NOW.timestamp())}.".encode() + message.body
    mac = hmac.new(b"a signing key for tests", signed, hashlib.sha256).digest()
    assert h["webhook-signature"] == "v1," + base64.b64encode(mac).decode()
    assert signing.verify(SECRET, h, message.body, now=int(NOW.timestamp()))
    assert not signing.verify(SECRET, h, message.body.replace(b"critical", b"low"), now=int(NOW.timestamp()))


def test_webhook_digest_lists_every_alert() -> None:
    alerts = [_alert("st-1"), _alert("st-2")]
    body, _ = _render("webhook", alerts)
    assert body["type"] == "watchfloor.digest"
    assert body["data"]["count"] == 2
    assert [item["alert"] for item in body["data"]["alerts"]] == [a.to_es() for a in alerts]
    assert body["data"]["alerts"][1]["kibana_url"] == kibana_link(KIBANA, "st-2")


# Slack


def test_slack_alert_blocks() -> None:
    body, message = _render("slack", [_alert()])
    assert set(message.headers) == {"Content-Type"}
    blocks = body["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "[critical] arms_transfer: Kim Jong Un may travel to Russia for arms talks",
        },
    }
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields == [
        "*Severity*\ncritical (88)",
        "*Topic*\narms_transfer (planned_or_possible)",
        "*Actors*\nKim Jong Un, North Korea",
        "*Sources*\n2 (1 independent)",
    ]
    explanation = blocks[2]["elements"][0]["text"]
    assert "\n" not in explanation
    assert explanation.startswith("new_story; severity 100 * topic 0.55")
    assert "topic arms talks 3 + visit 3 = 6 ≥ threshold 3" in explanation
    link = kibana_link(KIBANA, "st-kim").replace("&", "&amp;")
    assert blocks[3]["text"]["text"] == f"<{link}|Open in Kibana>"


def test_slack_escapes_control_characters() -> None:
    body, _ = _render("slack", [_alert(headline="<!channel> Guns & <http://evil.example|butter>")])
    escaped = "&lt;!channel&gt; Guns &amp; &lt;http://evil.example|butter&gt;"
    assert body["text"] == f"[critical] arms_transfer: {escaped}"
    assert body["blocks"][0]["text"]["text"].endswith("<!channel> Guns & <http://evil.example|butter>")
    digest, _ = _render("slack", [_alert(headline="<!here> & co"), _alert("st-2")])
    assert "&lt;!here&gt; &amp; co" in digest["blocks"][1]["text"]["text"]
    assert not any("<!" in t for t in _texts(digest))


def test_slack_explanation_is_clipped_to_one_short_line() -> None:
    long = _with(_alert(), explanation={"severity": {"arithmetic": "x " * 400}})
    body, _ = _render("slack", [long])
    text = body["blocks"][2]["elements"][0]["text"]
    assert len(text) <= 300
    assert text.endswith("…")


def test_slack_digest_lists_severity_topic_headline_and_link() -> None:
    body, _ = _render("slack", [_alert("st-1", "First"), _with(_alert("st-2", "Second"), severity="medium")])
    assert body["text"] == "Watchfloor digest: 2 alerts"
    lines = [b["text"]["text"] for b in body["blocks"][1:]]
    assert lines == [
        f"*critical* · arms_transfer · <{kibana_link(KIBANA, 'st-1').replace('&', '&amp;')}|First>",
        f"*medium* · arms_transfer · <{kibana_link(KIBANA, 'st-2').replace('&', '&amp;')}|Second>",
    ]


def test_a_long_digest_stays_within_slacks_block_limit() -> None:
    body, _ = _render("slack", [_alert(f"st-{i}") for i in range(DIGEST_SHOWN + 5)])
    assert len(body["blocks"]) <= 50
    assert body["blocks"][-1]["elements"][0]["text"] == "and 5 more"


# Teams


def test_teams_adaptive_card() -> None:
    body, _ = _render("teams", [_alert()])
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    title, facts, explanation = card["body"]
    assert title["text"] == "\\[critical\\] arms_transfer: Kim Jong Un may travel to Russia for arms talks"
    assert (title["weight"], title["wrap"]) == ("bolder", True)
    assert {f["title"]: f["value"] for f in facts["facts"]} == {
        "Severity": "critical (88)",
        "Topic": "arms_transfer",
        "Actors": "Kim Jong Un, North Korea",
        "Sources": "2 (1 independent)",
        "Modality": "planned_or_possible",
    }
    assert explanation["text"].startswith("new_story; severity")
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open in Kibana", "url": kibana_link(KIBANA, "st-kim")}
    ]


def test_teams_digest_links_each_alert() -> None:
    body, _ = _render("teams", [_alert("st-1", "First"), _alert("st-2", "Second")])
    card = body["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Watchfloor digest: 2 alerts"
    containers = card["body"][1:]
    assert [c["selectAction"]["url"] for c in containers] == [
        kibana_link(KIBANA, "st-1"),
        kibana_link(KIBANA, "st-2"),
    ]
    assert [c["items"][1]["text"] for c in containers] == ["First", "Second"]
    assert containers[0]["items"][0]["text"] == "critical · arms_transfer"


def test_teams_shows_an_outlets_markdown_link_as_text() -> None:
    hostile = "Guns [click here](http://phish.example/login) <http://phish.example> <at>everyone</at>"
    for alerts in ([_alert(headline=hostile)], [_alert("st-1", hostile), _alert("st-2", "Second")]):
        body, _ = _render("teams", alerts)
        texts = " ".join(_texts(body))
        assert "phish.example" in texts
        assert "[click here](" not in texts.replace("\\[click here\\](", "")
        assert "<http" not in texts.replace("\\<http", "") and "<at>" not in texts.replace("\\<at\\>", "")


def test_teams_clips_a_hostile_headline_to_fit_one_message() -> None:
    _, message = _render("teams", [_alert(headline="炸" * 80_000)])
    assert len(message.body) <= TEAMS_MAX_BYTES
    _, message = _render("teams", [_alert("st-1", "炸" * 80_000), _alert("st-2", "炸" * 80_000)])
    assert len(message.body) <= TEAMS_MAX_BYTES


# PagerDuty


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("critical", "critical"), ("high", "error"), ("medium", "warning"), ("low", "info")],
)
def test_pagerduty_event(severity: str, expected: str) -> None:
    alert = _with(_alert(), severity=severity)
    body, _ = _render("pagerduty", [alert])
    assert (body["routing_key"], body["event_action"], body["dedup_key"]) == (SECRET, "trigger", "st-kim")
    payload = body["payload"]
    assert payload["severity"] == expected
    assert (
        payload["summary"] == f"[{severity}] arms_transfer: Kim Jong Un may travel to Russia for arms talks"
    )
    assert (payload["source"], payload["component"], payload["class"], payload["group"]) == (
        "watchfloor",
        "arms_transfer",
        "arms_transfer",
        "st-kim",
    )
    assert payload["timestamp"] == T0.isoformat()
    details = payload["custom_details"]
    assert details["alert_id"] == alert.watchfloor.alert_id
    assert (details["revision"], details["reason"], details["modality"]) == (
        1,
        "new_story",
        "planned_or_possible",
    )
    assert details["actors"] == ["Kim Jong Un", "North Korea"]
    assert body["links"] == [{"href": kibana_link(KIBANA, "st-kim"), "text": "Open in Kibana"}]


def test_pagerduty_summary_fits_its_limit() -> None:
    body, _ = _render("pagerduty", [_alert(headline="war " * 400)])
    assert len(body["payload"]["summary"]) == 1024


def test_pagerduty_refuses_digests_without_showing_the_key() -> None:
    with pytest.raises(ValueError, match="digest") as raised:
        _render("pagerduty", [_alert("st-1"), _alert("st-2")])
    assert SECRET not in str(raised.value)
    with pytest.raises(ValidationError, match="cannot have a digest"):
        _dest("pagerduty", digest={"every_minutes": 5})


# Templates and errors


def test_template_formats_the_headline_line() -> None:
    template = "{severity}|{topic}|{sources}|{actors}|{story_id}|{headline}"
    body, _ = _render("slack", [_alert()], template=template)
    line = "critical|arms_transfer|2|Kim Jong Un, North Korea|st-kim|" + _alert().watchfloor.headline
    assert body["blocks"][0]["text"]["text"] == line
    body, _ = _render("pagerduty", [_alert()], template="{story_id}: {headline:.10}")
    assert body["payload"]["summary"] == "st-kim: Kim Jong U"


@pytest.mark.parametrize("template", ["{unknown}", "{}", "{severity.upper}", "{sources:x>q}", "{headline"])
def test_a_bad_template_is_refused_with_the_config(template: str) -> None:
    with pytest.raises(ValidationError, match="template"):
        _dest("slack", template=template)


def test_render_needs_alerts_an_aware_time_and_a_secret() -> None:
    dest = _dest("webhook")
    with pytest.raises(ValueError, match="nothing"):
        render(dest, [], kibana_url=KIBANA, secret=SECRET, msg_id="m", now=NOW)
    with pytest.raises(ValueError, match="timezone"):
        render(dest, [_alert()], kibana_url=KIBANA, secret=SECRET, msg_id="m", now=NOW.replace(tzinfo=None))
    for kind in ("webhook", "pagerduty"):
        with pytest.raises(ValueError, match=kind if kind == "webhook" else "routing key"):
            render(_dest(kind), [_alert()], kibana_url=KIBANA, secret=None, msg_id="m", now=NOW)


def test_a_malformed_signing_secret_is_not_echoed() -> None:
    secret = (
        "whsec_this-is-not*base64!ab"  # no byte string encodes to it: refused, as the official library does
    )
    with pytest.raises(ValueError) as raised:
        render(_dest("webhook"), [_alert()], kibana_url=KIBANA, secret=secret, msg_id="m", now=NOW)
    assert "this-is-not" not in str(raised.value)
