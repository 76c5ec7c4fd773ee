"""One destination's HTTP delivery: timeouts, retries with backoff and jitter, Retry-After, a rate limit
and a circuit breaker.

A receiver that is down must not lose alerts, so a delivery is retried up to the destination's
``max_attempts`` real attempts. Waiting for an open circuit does not count as an attempt: the breaker
only stops us from hammering a dead endpoint. A 4xx other than 408/425/429 is permanent (a bad payload
or a revoked URL), and so is a 3xx (redirects are not followed: a moved endpoint is a configuration
change): retrying cannot help, so it is dead-lettered at once. A Retry-After longer than the
destination's ``max_backoff_s`` is cut to it, so one receiver cannot park its alerts for hours.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

from connectors.notify.markup import Rendered
from schemas.notify import Destination

USER_AGENT = "Watchfloor-Notifier/1"


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    attempts: int
    detail: str
    """For logs and dead letters: status codes and error classes, never the URL or a secret."""
    status: int | None = None
    """The last HTTP status, if the destination answered."""

    @property
    def too_large(self) -> bool:
        """Refused for its size (413): a smaller message may pass where this one cannot."""
        return self.status == 413


class TokenBucket:
    """`rate_per_minute` sends a minute, in bursts of at most `burst`."""

    def __init__(
        self, rate_per_minute: float, burst: int = 5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._at = clock()

    def wait_time(self) -> float:
        """Seconds until a token is available; takes it when that is now (0.0)."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self._rate


class CircuitBreaker:
    """Opens after `failures` consecutive failed attempts; after `cooldown_s` one probe may go through."""

    def __init__(self, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = failures
        self._cooldown = cooldown_s
        self._clock = clock
        self._streak = 0
        self._opened: float | None = None

    def wait_time(self) -> float:
        """0.0 when an attempt may go now (closed, or half-open after the cooldown)."""
        if self._opened is None:
            return 0.0
        return max(0.0, self._opened + self._cooldown - self._clock())

    @property
    def is_open(self) -> bool:
        return self._opened is not None

    def success(self) -> None:
        self._streak = 0
        self._opened = None

    def failure(self) -> None:
        self._streak += 1
        if self._streak >= self._limit:
            self._opened = self._clock()  # (re)open: a failed half-open probe restarts the cooldown


def backoff(attempt: int, cap_s: float, base_s: float = 1.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0.5, 1] x min(cap, base x 2^(attempt-1))."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    return ceiling * (rng or random).uniform(0.5, 1.0)


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() too, and float("²") raises
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # the asctime form (and "-0000") has no zone; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_permanent(status: int) -> bool:
    return 300 <= status < 500 and status not in (408, 425, 429)


class Sender:
    """Delivers rendered messages to one destination; one sender per destination, used by one thread."""

    def __init__(
        self,
        dest: Destination,
        url: str,
        *,
        stop: threading.Event,
        client: httpx.Client | None = None,
        backoff_base_s: float = 1.0,
    ) -> None:
        self.dest = dest
        self._url = url
        self._stop = stop
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(dest.timeout_s, connect=min(5.0, dest.timeout_s)),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        self._bucket = TokenBucket(dest.rate_per_minute)
        self.breaker = CircuitBreaker(dest.breaker_failures, dest.breaker_cooldown_s)
        self._base = backoff_base_s

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; False when the notifier is shutting down."""
        return not self._stop.wait(seconds) if seconds > 0 else not self._stop.is_set()

    def deliver(self, message: Rendered) -> Outcome | None:
        """Attempts until delivered, permanently refused, or out of attempts; None if stopped first
        (the delivery is then neither done nor dead: a restart tries again)."""
        attempts = 0
        detail = ""
        while attempts < self.dest.max_attempts:
            for gate in (self.breaker.wait_time, self._bucket.wait_time):
                while (wait := gate()) > 0:
                    if not self._sleep(wait):
                        return None
            attempts += 1
            delay: float | None = None
            try:
                resp = self._client.post(self._url, content=message.body, headers=message.headers)
            except httpx.TimeoutException as exc:
                detail = f"timeout ({type(exc).__name__})"
            except httpx.HTTPError as exc:
                detail = f"transport error ({type(exc).__name__})"
            else:
                if resp.is_success:
                    self.breaker.success()
                    return Outcome(True, attempts, f"HTTP {resp.status_code}", resp.status_code)
                detail = f"HTTP {resp.status_code}"
                if is_permanent(resp.status_code):
                    self.breaker.success()  # the endpoint answers; the message is what it refuses
                    return Outcome(False, attempts, f"{detail} (permanent)", resp.status_code)
                delay = retry_after_s(resp.headers.get("retry-after"))
            self.breaker.failure()
            if attempts >= self.dest.max_attempts:
                break
            wait = backoff(attempts, self.dest.max_backoff_s, self._base)
            if delay is not None:
                wait = min(max(wait, delay), self.dest.max_backoff_s)
            if not self._sleep(wait):
                return None
        return Outcome(False, attempts, f"{detail}; gave up after {attempts} attempts")

    def close(self) -> None:
        self._client.close()
