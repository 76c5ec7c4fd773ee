"""When to poll a feed next: adaptive to its cadence, polite to its publisher, and never giving up.

Pure functions of (state, feed, outcome, now); the ingester applies them after the outcome is durable.

- Success: half the observed mean gap between new items (an EWMA), grown 1.5x after a poll with
  nothing new; publisher hints (Cache-Control max-age/Expires, RSS ``<ttl>``, ``sy:updatePeriod``)
  lengthen it; the result is clamped to the feed's [min, max] interval.
- Failure: exponential backoff from the min interval with jitter; after ``PROBE_AFTER`` failures in a
  row the feed is probed at its max interval, forever. ``Retry-After`` (429/503) is honoured in full,
  up to a day, even beyond the max interval: the server asked.
- 410 Gone disables the feed with a reason; a chain of permanent redirects moves its URL.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.feed import FeedConfig
from schemas.feedstate import FeedState

PROBE_AFTER = 6
EWMA_WEIGHT = 0.3
MAX_RETRY_AFTER_S = 86400.0
JITTER = 0.1


@dataclass(frozen=True)
class PollOutcome:
    """What one poll of one feed came to."""

    kind: str  # "ok" | "not_modified" | "error"
    at: datetime
    new_items: int = 0
    error_kind: str | None = None
    error: str | None = None
    status: int | None = None
    retry_after_s: float | None = None
    max_age_s: float | None = None
    feed_hint_s: float | None = None
    permanent_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def initial_state(feed: FeedConfig, now: datetime) -> FeedState:
    return FeedState(feed_id=feed.id, url=feed.url, next_due=now, interval_s=float(feed.min_interval_s))


def _clamp(value: float, feed: FeedConfig) -> float:
    return min(max(value, float(feed.min_interval_s)), float(feed.max_interval_s))


def _jittered(seconds: float, rng: random.Random) -> float:
    return seconds * rng.uniform(1 - JITTER, 1 + JITTER)


def success_interval(
    state: FeedState, feed: FeedConfig, outcome: PollOutcome, mean_gap_s: float | None
) -> float:
    if outcome.new_items and mean_gap_s:
        interval = mean_gap_s / 2
    elif outcome.new_items:
        interval = float(feed.min_interval_s)
    else:
        interval = state.interval_s * 1.5
    hints = [h for h in (outcome.max_age_s, outcome.feed_hint_s) if h]
    return _clamp(max([interval, *hints]), feed)


def failure_delay(state: FeedState, feed: FeedConfig, outcome: PollOutcome, rng: random.Random) -> float:
    failures = state.consecutive_failures + 1
    if failures >= PROBE_AFTER:
        delay = float(feed.max_interval_s)
    else:
        delay = _clamp(feed.min_interval_s * 2 ** (failures - 1), feed) * rng.uniform(0.5, 1.0)
    if outcome.retry_after_s:
        delay = max(delay, min(outcome.retry_after_s, MAX_RETRY_AFTER_S))
    return delay


def advance(
    state: FeedState,
    feed: FeedConfig,
    outcome: PollOutcome,
    rng: random.Random,
    last_item_gap_s: float | None = None,
) -> FeedState:
    """The feed's state after ``outcome``; ``last_item_gap_s`` is the time since the previous new item."""
    update: dict[str, object] = {"last_attempt": outcome.at, "last_outcome": outcome.kind}
    if outcome.kind == "error":
        delay = failure_delay(state, feed, outcome, rng)
        update |= {
            "consecutive_failures": state.consecutive_failures + 1,
            "last_error": f"{outcome.error_kind}: {outcome.error}",
            "next_due": outcome.at + timedelta(seconds=delay),
        }
        if outcome.status == 410:
            update["disabled_reason"] = (
                f"410 Gone at {outcome.at.isoformat()}: the publisher removed this feed"
            )
        return state.model_copy(update=update)

    mean_gap = state.mean_gap_s
    if outcome.new_items and last_item_gap_s is not None:
        gap = last_item_gap_s / outcome.new_items
        mean_gap = gap if mean_gap is None else (1 - EWMA_WEIGHT) * mean_gap + EWMA_WEIGHT * gap
    interval = success_interval(state, feed, outcome, mean_gap)
    update |= {
        "consecutive_failures": 0,
        "last_error": None,
        "last_success": outcome.at,
        "interval_s": interval,
        "mean_gap_s": mean_gap,
        "next_due": outcome.at + timedelta(seconds=_jittered(interval, rng)),
        "items_total": state.items_total + outcome.new_items,
    }
    if outcome.new_items:
        update["last_new_item"] = outcome.at
    if outcome.permanent_url:
        update["url"] = outcome.permanent_url
    if outcome.kind == "ok":
        update |= {"etag": outcome.etag, "last_modified": outcome.last_modified}
    return state.model_copy(update=update)
