"""The WebSub protocol pieces and the subscriber's decisions, without a network (httpx.MockTransport
stands in for the hub)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import httpx

from connectors.feeds.websub.protocol import answer_verification, discover, link_header_rels, signature_valid
from connectors.feeds.websub.subscriber import MemoryTable, PushRejected, Subscriber, SubscriberPolicy
from schemas.feed import FeedConfig

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
FEED = FeedConfig(id="f1", url="https://pub.example/feed", name="F1")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _subscriber(status: int = 202) -> tuple[Subscriber, list[dict[str, str]], Clock]:
    sent: list[dict[str, str]] = []

    def hub(request: httpx.Request) -> httpx.Response:
        sent.append(dict(httpx.QueryParams(request.content.decode())))
        return httpx.Response(status)

    clock = Clock()
    policy = SubscriberPolicy("https://wf.example/websub/", lease_s=3600, verify_timeout_s=30)
    return (
        Subscriber(MemoryTable(), policy, httpx.Client(transport=httpx.MockTransport(hub)), clock=clock),
        sent,
        clock,
    )


def _verify(
    sub: Subscriber, form: dict[str, str], mode: str, lease: str = "3600", topic: str = ""
) -> tuple[int, bytes]:
    token = form["hub.callback"].rpartition("/")[2]
    params = {
        "hub.mode": mode,
        "hub.topic": topic or form["hub.topic"],
        "hub.challenge": "c-42",
        "hub.lease_seconds": lease,
    }
    return sub.verify(token, params)


def test_link_header_relations_are_parsed_with_several_rels_and_links() -> None:
    value = '<https://hub.example/>; rel="hub", <https://pub.example/feed>; rel="self alternate"'
    assert link_header_rels(value) == [
        ("hub", "https://hub.example/"),
        ("self", "https://pub.example/feed"),
        ("alternate", "https://pub.example/feed"),
    ]


def test_header_links_win_over_the_document_and_the_topic_defaults_to_the_fetched_url() -> None:
    doc = [("hub", "https://doc-hub.example/"), ("self", "/feed.xml")]
    headers = {"link": '<https://header-hub.example/>; rel="hub"'}
    found = discover(headers, doc, "https://pub.example/rss")
    assert found is not None and found.hubs == ("https://header-hub.example/",)
    assert found.topic == "https://pub.example/rss"
    from_doc = discover({}, doc, "https://pub.example/rss")
    assert from_doc is not None and from_doc.hubs == ("https://doc-hub.example/",)
    assert from_doc.topic == "https://pub.example/feed.xml"
    assert discover({}, [("hub", "javascript:alert(1)")], "https://pub.example/rss") is None
    assert discover({}, [("alternate", "https://x.example/")], "https://pub.example/rss") is None


def test_signatures_are_checked_by_the_named_method_and_anything_else_is_invalid() -> None:
    body = b"<feed/>"
    for method in ("sha1", "sha256", "sha512"):
        good = hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
        assert signature_valid("s3cret", body, f"{method}={good}")
        assert not signature_valid("other", body, f"{method}={good}")
        assert not signature_valid("s3cret", body + b" ", f"{method}={good}")
    assert not signature_valid("s3cret", body, None)
    assert not signature_valid("s3cret", body, "md5=abc")
    assert not signature_valid("s3cret", body, "sha256=")


def test_only_a_pending_request_of_the_same_mode_and_topic_is_confirmed() -> None:
    sub, sent, clock = _subscriber()
    sub.discovered(FEED, discover({"link": '<https://hub.example/>; rel="hub"'}, [], FEED.url))
    (form,) = sent
    assert form["hub.mode"] == "subscribe" and form["hub.topic"] == FEED.url
    assert form["hub.callback"].startswith("https://wf.example/websub/") and len(form["hub.secret"]) >= 32
    assert _verify(sub, form, "subscribe", topic="https://evil.example/") == (404, b"")
    assert _verify(sub, form, "unsubscribe") == (404, b"")
    assert sub.verify("no-such-token", {"hub.mode": "subscribe", "hub.topic": FEED.url}) == (404, b"")
    assert not sub.pushed("f1")
    assert _verify(sub, form, "subscribe") == (200, b"c-42")
    assert sub.pushed("f1")
    assert _verify(sub, form, "subscribe") == (404, b"")  # nothing pending any more: no replays
    assert sub.relaxed_due("f1", T0, T0) == T0 + timedelta(seconds=1800)
    clock.now = T0 + timedelta(hours=2)
    assert not sub.pushed("f1")  # the lease ran out


def _subscribed() -> tuple[Subscriber, str, str]:
    """A subscriber with FEED's subscription verified: it, the callback token and the secret."""
    sub, sent, _ = _subscriber()
    sub.discovered(FEED, discover({"link": '<https://hub.example/>; rel="hub"'}, [], FEED.url))
    form = sent[0]
    _verify(sub, form, "subscribe")
    return sub, form["hub.callback"].rpartition("/")[2], form["hub.secret"]


def _rejected(sub: Subscriber, token: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    try:
        sub.authenticate(token, headers, body)
    except PushRejected as exc:
        return exc.status, exc.reason
    raise AssertionError("accepted")


def test_pushes_are_authenticated_by_the_subscriptions_secret() -> None:
    sub, token, secret = _subscribed()
    body = b"<rss/>"
    signed = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert sub.authenticate(token, {"x-hub-signature": signed}, body).feed_id == "f1"
    for headers, status, reason in (
        ({}, 202, "unsigned"),
        ({"x-hub-signature": signed.replace("sha256=", "sha256=0")}, 202, "bad_signature"),
    ):
        assert _rejected(sub, token, headers, body) == (status, reason)
    assert _rejected(sub, "gone", {"x-hub-signature": signed}, body)[0] == 410


class Rebalancing:
    """Feed leases in the middle of a rebalance: none held until ``settled`` is waited on, when the
    assignment arrives with the feed's lease (``ours``), without it, or not in time (``arrives``)."""

    def __init__(self, *, arrives: bool, ours: bool = True) -> None:
        self.held = False
        self.arrives = arrives
        self.ours = ours

    def owns(self, _feed_id: str) -> bool:
        return self.held

    def settled(self, _wait_s: float) -> bool:
        self.held = self.arrives and self.ours
        return self.arrives


def test_a_push_during_a_lease_rebalance_waits_for_it_and_is_never_acknowledged_unread() -> None:
    sub, token, secret = _subscribed()
    body = b"<rss/>"
    signed = {"x-hub-signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}

    leases = Rebalancing(arrives=True)
    sub.owns, sub.settled = leases.owns, leases.settled
    assert sub.authenticate(token, signed, body).feed_id == "f1"  # ours again once assigned: ingested
    for leases, status, reason in (
        (Rebalancing(arrives=False), 503, "rebalancing"),  # still rebalancing: the hub retries
        (Rebalancing(arrives=True, ours=False), 202, "not_owned"),  # another process polls it now
    ):
        sub.owns, sub.settled = leases.owns, leases.settled
        assert _rejected(sub, token, signed, body) == (status, reason)


def test_an_unverified_request_fails_after_the_timeout_and_is_retried_with_backoff() -> None:
    sub, sent, clock = _subscriber()
    sub.discovered(FEED, discover({"link": '<https://hub.example/>; rel="hub"'}, [], FEED.url))
    clock.now = T0 + timedelta(seconds=31)
    sub.tick([FEED])
    state = sub.get("f1")
    assert state is not None and state.pending is None and state.failures == 1
    assert state.retry_at == clock.now + timedelta(seconds=30)
    sub.tick([FEED])
    assert len(sent) == 1  # backing off
    clock.now += timedelta(seconds=31)
    sub.tick([FEED])
    assert len(sent) == 2 and sent[1]["hub.mode"] == "subscribe"


def test_renewal_comes_before_the_lease_ends_with_the_same_callback_and_secret() -> None:
    sub, sent, clock = _subscriber()
    sub.discovered(FEED, discover({"link": '<https://hub.example/>; rel="hub"'}, [], FEED.url))
    _verify(sub, sent[0], "subscribe", lease="3600")
    clock.now = T0 + timedelta(seconds=3600 - 361)
    sub.tick([FEED])
    assert len(sent) == 1
    clock.now = T0 + timedelta(seconds=3600 - 359)
    sub.tick([FEED])
    assert len(sent) == 2
    assert (sent[1]["hub.callback"], sent[1]["hub.secret"]) == (
        sent[0]["hub.callback"],
        sent[0]["hub.secret"],
    )
    assert sub.pushed("f1")  # still active while the renewal is pending


def test_a_removed_or_disabled_feed_is_unsubscribed_and_forgotten_once_the_hub_confirms() -> None:
    sub, sent, _ = _subscriber()
    sub.discovered(FEED, discover({"link": '<https://hub.example/>; rel="hub"'}, [], FEED.url))
    _verify(sub, sent[0], "subscribe")
    sub.tick([FEED.model_copy(update={"enabled": False})])
    assert sent[1]["hub.mode"] == "unsubscribe"
    assert _verify(sub, sent[1], "unsubscribe") == (200, b"c-42")
    assert sub.get("f1") is None


def test_a_refused_request_backs_off() -> None:
    sub, _sent, _ = _subscriber(status=400)
    sub.discovered(FEED, discover({"link": '<https://hub.example/>; rel="hub"'}, [], FEED.url))
    state = sub.get("f1")
    assert state is not None and state.pending is None and state.failures == 1
    assert state.last_error == "hub answered HTTP 400"
    assert (
        answer_verification(
            state,
            {"hub.mode": "subscribe", "hub.topic": FEED.url, "hub.challenge": "x", "hub.lease_seconds": "1"},
            T0,
        ).status
        == 404
    )
