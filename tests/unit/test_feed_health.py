"""Feed health conditions and the alerter's raise/clear decisions, on states built by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.feeds.health import HealthAlerter, HealthPolicy, conditions
from connectors.feeds.websub.subscriber import MemoryTable
from schemas.feed import FeedConfig, SourceTier
from schemas.feedstate import FeedState
from schemas.opsalert import OpsAlert

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POLICY = HealthPolicy(silent_factor=6, silent_floor_s=3600, failing_after=3)


def _feed(feed_id: str, tier: SourceTier = SourceTier.NATIONAL) -> FeedConfig:
    return FeedConfig(id=feed_id, url=f"https://pub.example/{feed_id}", name=feed_id.upper(), tier=tier)


def _state(feed_id: str, quiet_s: float, gap_s: float = 600, failures: int = 0) -> FeedState:
    return FeedState(
        feed_id=feed_id,
        url="https://pub.example/",
        next_due=NOW,
        interval_s=300,
        last_new_item=NOW - timedelta(seconds=quiet_s),
        last_success=NOW - timedelta(hours=5),
        mean_gap_s=gap_s,
        consecutive_failures=failures,
        last_error="http_status: HTTP 503" if failures else None,
    )


def test_silence_is_measured_against_the_learned_cadence_with_a_floor() -> None:
    feeds = [_feed("busy"), _feed("slow"), _feed("fresh")]
    states = {
        "busy": _state("busy", quiet_s=3700, gap_s=60),  # 6 gaps are 6 min; the 1 h floor applies
        "slow": _state("slow", quiet_s=3700, gap_s=3600),  # 6 gaps are 6 h: not yet
        "fresh": _state("fresh", quiet_s=3500, gap_s=60),
    }
    found = conditions(feeds, states, NOW, POLICY)
    assert set(found) == {"feed_silent:busy"}
    alert = found["feed_silent:busy"]
    assert alert.severity == "low" and alert.since == states["busy"].last_new_item
    assert alert.ops_id == "feed_silent:busy:20261120T105820Z"


def test_failing_feeds_wire_severity_and_whole_tiers() -> None:
    feeds = [_feed("w1", SourceTier.WIRE), _feed("w2", SourceTier.WIRE), _feed("n1")]
    states = {
        "w1": _state("w1", quiet_s=60, failures=3),
        "w2": _state("w2", quiet_s=7200, gap_s=60),
        "n1": _state("n1", quiet_s=60),
    }
    found = conditions(feeds, states, NOW, POLICY)
    assert {k: a.severity for k, a in found.items()} == {
        "feed_failing:w1": "medium",
        "feed_silent:w2": "medium",
        "tier_silent:wire": "high",
    }
    assert found["feed_failing:w1"].since == states["w1"].last_success
    disabled = [f.model_copy(update={"enabled": False}) if f.id == "w1" else f for f in feeds]
    assert "tier_silent:wire" not in conditions(disabled, states, NOW, POLICY)  # one feed is not a tier


def test_the_alerter_raises_once_and_clears_when_the_feed_recovers() -> None:
    sent: list[OpsAlert] = []
    table = MemoryTable()
    alerter = HealthAlerter(table, sent.append, POLICY, clock=lambda: NOW)
    feeds = [_feed("busy")]
    silent = {"busy": _state("busy", quiet_s=3700, gap_s=60)}
    assert [a.status for a in alerter.check(feeds, silent)] == ["firing"]
    assert alerter.check(feeds, silent) == []  # still silent: nothing new to say
    recovered = {"busy": _state("busy", quiet_s=10, gap_s=60)}
    (cleared,) = alerter.check(feeds, recovered)
    assert (cleared.status, cleared.ops_id) == ("cleared", sent[0].ops_id)
    assert table.rows == {} and len(sent) == 2
    assert alerter.check([], silent) == []  # a removed feed raises nothing
