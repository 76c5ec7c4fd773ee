import random
from datetime import UTC, datetime, timedelta

from connectors.feeds.schedule import PROBE_AFTER, PollOutcome, advance, initial_state
from schemas.feed import FeedConfig

FEED = FeedConfig(id="f", url="https://example.org/rss", name="F", min_interval_s=60, max_interval_s=3600)
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _rng() -> random.Random:
    return random.Random(7)


def _delay(state_before_due: datetime, state_after_due: datetime) -> float:
    return (state_after_due - state_before_due).total_seconds()


def test_quiet_feed_backs_off_to_max_interval() -> None:
    state = initial_state(FEED, T0)
    now = T0
    for _ in range(20):
        state = advance(state, FEED, PollOutcome("not_modified", now), _rng())
        now = state.next_due
    assert state.interval_s == FEED.max_interval_s


def test_busy_feed_polls_at_half_its_item_gap_within_bounds() -> None:
    state = initial_state(FEED, T0)
    state = advance(state, FEED, PollOutcome("ok", T0, new_items=3), _rng())
    later = T0 + timedelta(minutes=20)
    state = advance(state, FEED, PollOutcome("ok", later, new_items=2), _rng(), last_item_gap_s=1200)
    assert state.mean_gap_s == 600
    assert state.interval_s == 300
    assert abs(_delay(later, state.next_due) - 300) <= 30  # +-10% jitter


def test_publisher_hints_lengthen_but_never_beyond_max() -> None:
    state = initial_state(FEED, T0)
    hinted = advance(state, FEED, PollOutcome("ok", T0, new_items=1, max_age_s=900), _rng())
    assert hinted.interval_s == 900
    capped = advance(state, FEED, PollOutcome("ok", T0, new_items=1, feed_hint_s=86400), _rng())
    assert capped.interval_s == FEED.max_interval_s


def test_errors_back_off_exponentially_then_probe_at_max_forever() -> None:
    state = initial_state(FEED, T0)
    delays = []
    now = T0
    for _ in range(PROBE_AFTER + 3):
        state = advance(state, FEED, PollOutcome("error", now, error_kind="connect", error="refused"), _rng())
        delays.append(_delay(now, state.next_due))
        now = state.next_due
    assert state.consecutive_failures == PROBE_AFTER + 3
    assert delays[1] > delays[0] * 1.0  # grows
    assert all(d == FEED.max_interval_s for d in delays[PROBE_AFTER - 1 :])
    assert state.disabled_reason is None  # never gives up
    ok = advance(state, FEED, PollOutcome("ok", now, new_items=1), _rng())
    assert ok.consecutive_failures == 0 and ok.last_error is None


def test_retry_after_is_honoured_even_beyond_max_interval() -> None:
    state = initial_state(FEED, T0)
    out = PollOutcome("error", T0, error_kind="http_status", error="HTTP 429", status=429, retry_after_s=7200)
    assert _delay(T0, advance(state, FEED, out, _rng()).next_due) == 7200


def test_gone_disables_and_permanent_redirect_moves_the_url() -> None:
    state = initial_state(FEED, T0)
    gone = advance(
        state, FEED, PollOutcome("error", T0, error_kind="http_status", error="HTTP 410", status=410), _rng()
    )
    assert gone.disabled_reason and "410" in gone.disabled_reason
    moved = advance(state, FEED, PollOutcome("ok", T0, permanent_url="https://new.example.org/rss"), _rng())
    assert moved.url == "https://new.example.org/rss"


def test_validators_are_replaced_on_200_and_kept_on_304() -> None:
    state = advance(
        initial_state(FEED, T0), FEED, PollOutcome("ok", T0, etag='"v1"', last_modified="x"), _rng()
    )
    assert (state.etag, state.last_modified) == ('"v1"', "x")
    kept = advance(state, FEED, PollOutcome("not_modified", T0), _rng())
    assert kept.etag == '"v1"'
    replaced = advance(state, FEED, PollOutcome("ok", T0, etag=None), _rng())
    assert replaced.etag is None


def test_silence_is_judged_against_the_feeds_own_cadence() -> None:
    state = initial_state(FEED, T0).model_copy(update={"last_new_item": T0, "mean_gap_s": 3600.0})
    assert not state.is_silent(T0 + timedelta(hours=5))
    assert state.is_silent(T0 + timedelta(hours=7))  # 6 x the usual hourly gap
    chatty = state.model_copy(update={"mean_gap_s": 60.0})
    assert not chatty.is_silent(T0 + timedelta(hours=5))  # but never before the 6 h floor
    assert chatty.is_silent(T0 + timedelta(hours=6, minutes=1))
    assert not initial_state(FEED, T0).is_silent(T0 + timedelta(days=30))  # no cadence known yet
