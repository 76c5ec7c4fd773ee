"""Delivery to one destination (connectors/notify/delivery.py) and the notifier's offset bookkeeping and
snoozes (connectors/notify/notifier.py), without Kafka or a network: HTTP goes through
httpx.MockTransport, time through fake clocks where the classes accept one."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from kafka import TopicPartition

from connectors.notify.delivery import (
    CircuitBreaker,
    Outcome,
    Sender,
    TokenBucket,
    backoff,
    is_permanent,
    retry_after_s,
)
from connectors.notify.markup import Rendered
from connectors.notify.notifier import Snoozes, _Progress
from schemas.notify import Destination
from tests.support.alerts import alert

URL = "https://hooks.example/T000/SECRET123"
MESSAGE = Rendered(body=b'{"text": "hello"}', headers={"content-type": "application/json"})


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- TokenBucket ------------------------------------------------------------------------------------


def test_bucket_allows_a_burst_then_limits_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_minute=60, burst=3, clock=clock)  # one token a second
    assert [bucket.wait_time() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.wait_time() == pytest.approx(1.0)
    assert bucket.wait_time() == pytest.approx(1.0)  # a wait does not take the token


def test_bucket_wait_time_is_what_the_missing_fraction_takes_to_refill() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_minute=30, burst=1, clock=clock)  # one token every 2 s
    assert bucket.wait_time() == 0.0
    clock.advance(0.5)  # a quarter of a token back
    assert bucket.wait_time() == pytest.approx(1.5)
    clock.advance(1.5)
    assert bucket.wait_time() == 0.0
    assert bucket.wait_time() == pytest.approx(2.0)


def test_bucket_refills_but_never_beyond_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_minute=60, burst=2, clock=clock)
    assert [bucket.wait_time() for _ in range(2)] == [0.0, 0.0]
    clock.advance(1.0)
    assert bucket.wait_time() == 0.0  # one token refilled
    assert bucket.wait_time() > 0
    clock.advance(3600)  # a long idle spell refills to the burst only
    assert [bucket.wait_time() for _ in range(2)] == [0.0, 0.0]
    assert bucket.wait_time() == pytest.approx(1.0)


# --- CircuitBreaker ---------------------------------------------------------------------------------


def test_breaker_opens_after_n_consecutive_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=3, cooldown_s=10, clock=clock)
    breaker.failure()
    breaker.failure()
    assert not breaker.is_open
    assert breaker.wait_time() == 0.0
    breaker.failure()
    assert breaker.is_open
    assert breaker.wait_time() == pytest.approx(10.0)


def test_breaker_failures_must_be_consecutive() -> None:
    breaker = CircuitBreaker(failures=2, cooldown_s=10, clock=FakeClock())
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert not breaker.is_open
    breaker.failure()
    assert breaker.is_open


def test_breaker_wait_counts_down_and_half_opens_after_the_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=1, cooldown_s=10, clock=clock)
    breaker.failure()
    clock.advance(4)
    assert breaker.wait_time() == pytest.approx(6.0)
    clock.advance(6)
    assert breaker.wait_time() == 0.0  # half-open: one probe may go
    assert breaker.is_open  # ... but it is not closed until that probe succeeds


def test_a_failed_probe_reopens_and_restarts_the_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=2, cooldown_s=10, clock=clock)
    breaker.failure()
    breaker.failure()
    clock.advance(15)
    assert breaker.wait_time() == 0.0
    breaker.failure()  # the probe fails
    assert breaker.is_open
    assert breaker.wait_time() == pytest.approx(
        10.0
    )  # a full cooldown from the probe, not from the first open


def test_a_successful_probe_closes_and_resets_the_streak() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failures=2, cooldown_s=10, clock=clock)
    breaker.failure()
    breaker.failure()
    clock.advance(10)
    breaker.success()
    assert not breaker.is_open
    assert breaker.wait_time() == 0.0
    breaker.failure()  # the streak starts again from zero
    assert not breaker.is_open
    breaker.failure()
    assert breaker.is_open


# --- backoff ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 8, 12])
def test_backoff_is_between_half_and_all_of_the_capped_exponential(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(60.0, 0.5 * 2 ** (attempt - 1))
    for _ in range(200):
        assert 0.5 * ceiling <= backoff(attempt, cap_s=60.0, base_s=0.5, rng=rng) <= ceiling


def test_backoff_never_exceeds_the_cap() -> None:
    rng = random.Random(7)
    delays = [backoff(attempt, cap_s=30.0, base_s=1.0, rng=rng) for attempt in range(1, 40)]
    assert max(delays) <= 30.0
    assert min(delays[10:]) >= 15.0  # far past the cap, still at least half of it


def test_backoff_grows_with_the_attempt() -> None:
    def mean(attempt: int) -> float:
        rng = random.Random(42)
        return sum(backoff(attempt, cap_s=1000.0, rng=rng) for _ in range(100)) / 100

    means = [mean(attempt) for attempt in range(1, 8)]
    assert means == sorted(means)
    assert means[-1] > 30 * means[0]
    # Same seed, same draws: each attempt doubles the delay until the cap.
    assert backoff(3, cap_s=1000.0, rng=random.Random(1)) == pytest.approx(
        2 * backoff(2, cap_s=1000.0, rng=random.Random(1))
    )


def test_backoff_jitters() -> None:
    rng = random.Random(3)
    assert len({backoff(4, cap_s=100.0, rng=rng) for _ in range(20)}) > 1


# --- retry_after_s ----------------------------------------------------------------------------------

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [("120", 120.0), ("0", 0.0), (" 7 ", 7.0)])
def test_retry_after_delta_seconds(value: str, expected: float) -> None:
    assert retry_after_s(value) == expected


def test_retry_after_http_date_is_relative_to_now() -> None:
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)  # "Sat, 28 Nov 2026 04:01:30 GMT"
    assert retry_after_s(later, now=NOW.timestamp()) == pytest.approx(90.0)


def test_retry_after_in_the_past_is_zero() -> None:
    earlier = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert retry_after_s(earlier, now=NOW.timestamp()) == 0.0


@pytest.fixture
def new_york_local_time() -> Iterator[None]:
    """A local zone other than UTC, so that a date read as local time shows."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is not available")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "America/New_York")
        time.tzset()
        try:
            yield
        finally:
            mp.undo()
            time.tzset()


@pytest.mark.usefixtures("new_york_local_time")
def test_retry_after_dates_without_a_zone_are_gmt() -> None:
    # RFC 9110 §5.6.7: the obsolete asctime form has no zone and is GMT like the others.
    assert retry_after_s("Sat Nov 28 04:01:30 2026", now=NOW.timestamp()) == pytest.approx(90.0)
    assert retry_after_s("Sat, 28 Nov 2026 04:01:30 GMT", now=NOW.timestamp()) == pytest.approx(90.0)


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "soon", "-5", "1.5", "Sat, 32 Nov 2026 04:01:30 GMT", "\u00b2", "\u0663"],
)
def test_retry_after_absent_or_invalid_is_none(value: str | None) -> None:
    # "\u00b2" (superscript two, what a latin-1 header byte 0xB2 decodes to) and "\u0663" (Arabic-Indic
    # three) pass str.isdigit() but are not delta-seconds.
    assert retry_after_s(value, now=NOW.timestamp()) is None


# --- is_permanent -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_client_errors_are_permanent(status: int) -> None:
    assert is_permanent(status)


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504, 200])
def test_retryable_statuses_are_not_permanent(status: int) -> None:
    assert not is_permanent(status)


# --- Sender -----------------------------------------------------------------------------------------


def _dest(**overrides: Any) -> Destination:
    values: dict[str, Any] = {
        "id": "hook",
        "kind": "slack",
        "url_env": "HOOK_URL",
        "max_attempts": 4,
        "max_backoff_s": 0.05,
        "rate_per_minute": 60_000,  # the rate limit is not what these tests are about
        "breaker_failures": 100,
        "breaker_cooldown_s": 0.05,
    } | overrides
    return Destination.model_validate(values)


Handler = Callable[[httpx.Request], httpx.Response]


class RecordingSender(Sender):
    """Records every sleep the sender asks for; `really_sleep=False` returns at once (no wall time)."""

    def __init__(self, *args: Any, really_sleep: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sleeps: list[float] = []
        self._really_sleep = really_sleep

    def _sleep(self, seconds: float) -> bool:
        self.sleeps.append(seconds)
        if self._really_sleep:
            return super()._sleep(seconds)
        return not self._stop.is_set()


class Recorder:
    """A MockTransport handler answering from a script (the last reply repeats), recording requests."""

    def __init__(self, *replies: httpx.Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return reply


def _sender(
    handler: Handler, dest: Destination | None = None, stop: threading.Event | None = None, **kw: Any
) -> RecordingSender:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return RecordingSender(
        dest or _dest(), URL, stop=stop or threading.Event(), client=client, backoff_base_s=0.001, **kw
    )


def test_delivered_on_the_first_attempt() -> None:
    handler = Recorder(httpx.Response(200))
    outcome = _sender(handler).deliver(MESSAGE)
    assert outcome == Outcome(True, 1, "HTTP 200", 200)
    (request,) = handler.requests
    assert (request.method, str(request.url)) == ("POST", URL)
    assert request.content == MESSAGE.body
    assert request.headers["content-type"] == "application/json"


def test_a_server_error_is_retried() -> None:
    handler = Recorder(httpx.Response(500), httpx.Response(200))
    outcome = _sender(handler).deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (True, 2)
    assert len(handler.requests) == 2


def test_a_permanent_refusal_is_not_retried() -> None:
    handler = Recorder(httpx.Response(404), httpx.Response(200))
    sender = _sender(handler)
    outcome = sender.deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (False, 1)
    assert "404" in outcome.detail
    assert "permanent" in outcome.detail
    assert len(handler.requests) == 1
    assert sender.sleeps == []


def test_a_413_says_the_message_was_too_large() -> None:
    outcome = _sender(Recorder(httpx.Response(413))).deliver(MESSAGE)
    assert outcome is not None and outcome.too_large and not outcome.delivered
    outcome = _sender(Recorder(httpx.Response(404))).deliver(MESSAGE)
    assert outcome is not None and not outcome.too_large


def test_gives_up_after_max_attempts() -> None:
    handler = Recorder(httpx.Response(503))
    sender = _sender(handler, _dest(max_attempts=3))
    outcome = sender.deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (False, 3)
    assert "HTTP 503" in outcome.detail
    assert "3 attempts" in outcome.detail
    assert len(handler.requests) == 3
    assert len(sender.sleeps) == 2  # between attempts, not after the last one
    assert all(0 < s <= 0.05 for s in sender.sleeps)


def test_retry_after_is_honoured() -> None:
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200))
    sender = _sender(handler, _dest(max_backoff_s=1), really_sleep=False)
    outcome = sender.deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (True, 2)
    assert sender.sleeps == [pytest.approx(1.0)]  # the backoff alone would be about a millisecond


def test_without_retry_after_the_sleep_is_the_backoff() -> None:
    handler = Recorder(httpx.Response(429), httpx.Response(200))
    sender = _sender(handler, _dest(max_backoff_s=1), really_sleep=False)
    assert sender.deliver(MESSAGE) is not None
    (sleep,) = sender.sleeps
    assert 0.0005 <= sleep <= 0.001


def test_a_malformed_retry_after_falls_back_to_the_backoff() -> None:
    # Header bytes are decoded as latin-1 when not UTF-8: 0xB2 arrives as "\u00b2", which isdigit().
    handler = Recorder(httpx.Response(503, headers=[(b"Retry-After", b"\xb2")]), httpx.Response(200))
    sender = _sender(handler, _dest(max_backoff_s=1), really_sleep=False)
    outcome = sender.deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (True, 2)
    (sleep,) = sender.sleeps
    assert sleep <= 0.001


def test_stopping_before_delivering_returns_none() -> None:
    stop = threading.Event()
    stop.set()
    handler = Recorder(httpx.Response(503))
    assert _sender(handler, stop=stop).deliver(MESSAGE) is None
    assert len(handler.requests) <= 1


def test_stopping_during_the_retry_wait_returns_none() -> None:
    stop = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        stop.set()  # shutdown begins while the receiver is failing
        return httpx.Response(503, headers={"Retry-After": "30"})

    sender = _sender(handler, _dest(max_backoff_s=60), stop=stop)
    started = time.monotonic()
    assert sender.deliver(MESSAGE) is None
    assert time.monotonic() - started < 1  # did not sit out the Retry-After


def test_timeouts_and_transport_errors_are_retried() -> None:
    handler = Recorder(
        httpx.ReadTimeout("read timed out"), httpx.ConnectError("refused"), httpx.Response(200)
    )
    outcome = _sender(handler).deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (True, 3)


def test_repeated_timeouts_are_reported_as_timeouts() -> None:
    handler = Recorder(httpx.ReadTimeout("read timed out"))
    outcome = _sender(handler, _dest(max_attempts=2)).deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (False, 2)
    assert "timeout" in outcome.detail
    assert "ReadTimeout" in outcome.detail


def test_waiting_for_an_open_breaker_does_not_use_attempts() -> None:
    handler = Recorder(httpx.Response(503), httpx.Response(503), httpx.Response(200))
    dest = _dest(max_attempts=3, breaker_failures=1, breaker_cooldown_s=0.02, max_backoff_s=0.001)
    sender = _sender(handler, dest)
    outcome = sender.deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (True, 3)
    assert len(handler.requests) == 3
    # Besides the two backoffs, the sender waited for the breaker: those waits were not attempts.
    assert len(sender.sleeps) > 2
    assert not sender.breaker.is_open  # the success closed it


def test_a_dead_receiver_still_gets_all_its_attempts_through_the_breaker() -> None:
    handler = Recorder(httpx.Response(503))
    dest = _dest(max_attempts=4, breaker_failures=2, breaker_cooldown_s=0.01, max_backoff_s=0.001)
    sender = _sender(handler, dest)
    outcome = sender.deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (False, 4)
    assert len(handler.requests) == 4
    assert sender.breaker.is_open


def test_a_permanent_refusal_resets_the_breaker_streak() -> None:
    sender = _sender(Recorder(httpx.Response(503), httpx.Response(404)), _dest(breaker_failures=2))
    outcome = sender.deliver(MESSAGE)
    assert outcome is not None
    assert (outcome.delivered, outcome.attempts) == (False, 2)
    sender.breaker.failure()  # had the 404 counted as a failure, this would be the second in a row
    assert not sender.breaker.is_open  # the endpoint answered; only the message was refused


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(404),
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "soon"}),
        httpx.ReadTimeout("timed out POST https://hooks.example/T000/SECRET123"),
        httpx.ConnectError("cannot connect to https://hooks.example/T000/SECRET123"),
    ],
)
def test_the_outcome_detail_never_contains_the_url(reply: httpx.Response | Exception) -> None:
    outcome = _sender(Recorder(reply), _dest(max_attempts=2)).deliver(MESSAGE)
    assert outcome is not None
    assert not outcome.delivered
    assert "SECRET123" not in outcome.detail
    assert "hooks.example" not in outcome.detail


# --- _Progress --------------------------------------------------------------------------------------

TP0 = TopicPartition("alerts", 0)
TP1 = TopicPartition("alerts", 1)


def test_commit_position_is_the_first_unsettled_offset() -> None:
    progress = _Progress()
    for offset in range(3):
        progress.read(TP0, offset, 1)
    assert progress.commit_positions() == {TP0: 0}
    progress.settle(TP0, 0)
    assert progress.commit_positions() == {TP0: 1}


def test_with_nothing_unsettled_the_position_is_past_the_last_read() -> None:
    progress = _Progress()
    progress.read(TP0, 10, 0)  # nothing to deliver (no route matched, duplicate, snoozed ...)
    progress.read(TP0, 11, 2)
    progress.settle(TP0, 11)
    assert progress.commit_positions() == {TP0: 11}  # one destination still pending
    progress.settle(TP0, 11)
    assert progress.commit_positions() == {TP0: 12}


def test_settling_out_of_order_holds_the_position_at_the_oldest_unsettled() -> None:
    progress = _Progress()
    for offset in range(3):
        progress.read(TP0, offset, 1)
    progress.settle(TP0, 2)
    progress.settle(TP0, 1)
    assert progress.commit_positions() == {TP0: 0}
    progress.settle(TP0, 0)
    assert progress.commit_positions() == {TP0: 3}


def test_partitions_are_independent() -> None:
    progress = _Progress()
    progress.read(TP0, 0, 1)
    progress.read(TP1, 5, 1)
    progress.settle(TP1, 5)
    assert progress.commit_positions() == {TP0: 0, TP1: 6}


def test_only_moved_positions_are_returned_after_committed() -> None:
    progress = _Progress()
    progress.read(TP0, 0, 1)
    progress.read(TP1, 0, 1)
    progress.committed(progress.commit_positions())
    assert progress.commit_positions() == {}
    progress.settle(TP1, 0)
    assert progress.commit_positions() == {TP1: 1}
    assert progress.commit_positions() == {TP1: 1}  # until it is reported committed
    progress.committed({TP1: 1})
    assert progress.commit_positions() == {}


def test_unsettled_counts_deliveries_not_records() -> None:
    progress = _Progress()
    assert progress.unsettled() == 0
    progress.read(TP0, 0, 2)
    progress.read(TP0, 1, 0)
    progress.read(TP1, 0, 1)
    assert progress.unsettled() == 3
    progress.settle(TP0, 0)
    assert progress.unsettled() == 2
    progress.settle(TP0, 0)
    progress.settle(TP1, 0)
    assert progress.unsettled() == 0


def test_settling_an_unknown_offset_changes_nothing() -> None:
    progress = _Progress()
    progress.read(TP0, 0, 1)
    progress.settle(TP0, 7)
    progress.settle(TP1, 0)
    assert progress.unsettled() == 1
    assert progress.commit_positions() == {TP0: 0}


def test_forget_drops_revoked_partitions() -> None:
    progress = _Progress()
    progress.read(TP0, 4, 1)
    progress.read(TP1, 0, 1)
    progress.committed({TP0: 4, TP1: 0})
    progress.forget([TP0])
    assert progress.unsettled() == 1
    progress.settle(TP0, 4)  # a late settle for a partition we no longer own
    assert progress.commit_positions() == {}
    # Reassigned later: starts afresh, nothing remembered as committed (not even the same position).
    progress.read(TP0, 3, 0)
    assert progress.commit_positions() == {TP0: 4}


# --- Snoozes ----------------------------------------------------------------------------------------


class FakeTable:
    """The get/put part of CompactedTable."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.rows.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.rows[key] = value


@pytest.fixture
def snoozes() -> Snoozes:
    return Snoozes(FakeTable())  # type: ignore[arg-type]


T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def test_nothing_snoozed(snoozes: Snoozes) -> None:
    assert snoozes.snoozed(alert(1), T0) is None


def test_a_story_snooze_silences_that_story_until_it_expires(snoozes: Snoozes) -> None:
    snoozes.add("story", "st-x", T0 + timedelta(hours=1), by="analyst")
    snoozed = alert(1, story="st-x")
    assert snoozes.snoozed(snoozed, T0) == "story:st-x"
    assert snoozes.snoozed(snoozed, T0 + timedelta(minutes=59)) == "story:st-x"
    assert snoozes.snoozed(snoozed, T0 + timedelta(hours=1)) is None  # `until` itself is past it
    assert snoozes.snoozed(snoozed, T0 + timedelta(hours=2)) is None
    assert snoozes.snoozed(alert(2, story="st-y"), T0) is None  # other stories are not affected


def test_an_actor_snooze_silences_every_story_involving_the_actor(snoozes: Snoozes) -> None:
    snoozes.add("actor", "person:kim-jong-un", T0 + timedelta(minutes=30))
    assert snoozes.snoozed(alert(1), T0) == "actor:person:kim-jong-un"
    assert snoozes.snoozed(alert(2, story="st-other"), T0) == "actor:person:kim-jong-un"
    assert snoozes.snoozed(alert(1), T0 + timedelta(minutes=31)) is None


def test_a_snooze_of_an_uninvolved_actor_does_not_silence(snoozes: Snoozes) -> None:
    snoozes.add("actor", "RUS", T0 + timedelta(hours=1))
    assert snoozes.snoozed(alert(1), T0) is None


def test_an_expired_snooze_does_not_silence(snoozes: Snoozes) -> None:
    snoozes.add("story", "st-x", T0 - timedelta(seconds=1))
    snoozes.add("actor", "PRK", T0 - timedelta(days=1))
    assert snoozes.snoozed(alert(1, story="st-x"), T0) is None


def test_a_snooze_is_stored_with_its_author_and_until() -> None:
    table = FakeTable()
    Snoozes(table).add("actor", "PRK", T0, by="analyst")  # type: ignore[arg-type]
    assert table.rows == {"actor:PRK": {"until": T0.isoformat(), "by": "analyst"}}


@pytest.mark.parametrize("kind", ["topic", "country", "", "Story"])
def test_an_unknown_snooze_kind_is_rejected(snoozes: Snoozes, kind: str) -> None:
    with pytest.raises(ValueError, match="story"):
        snoozes.add(kind, "x", T0 + timedelta(hours=1))
