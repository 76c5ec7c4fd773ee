"""Operational alerts about the sources themselves: a feed silent for far longer than its learned
cadence, a feed failing poll after poll, or a whole source tier gone quiet. A wire that falls silent
during a crisis is news; so is a publisher that blocks us.

The ingester owns this because it alone knows each feed's cadence and failures (its ``FeedState``).
``conditions`` is pure; ``HealthAlerter`` turns condition changes into ``OpsAlert`` events on the
ops-alerts topic (acks=all) and remembers which are open on the compacted state topic
(``ingest:ops:<kind>:<subject>``), so a restart neither raises them again nor forgets to clear them.
With several ingest processes each checks the feeds it owns, and a tier is checked by the process
that owns the key ``tier:<tier>``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.feeds.websub.subscriber import Table
from schemas.alert import Severity
from schemas.feed import FeedConfig, SourceTier
from schemas.feedstate import FeedState
from schemas.opsalert import OpsAlert, OpsKind

log = logging.getLogger("watchfloor.ingest")


@dataclass(frozen=True)
class HealthPolicy:
    silent_factor: float = 6.0  # gaps of the feed's learned cadence without a new item
    silent_floor_s: float = 6 * 3600  # and at least this long
    failing_after: int = 6  # failed polls in a row
    tier_min_feeds: int = 2  # a tier alert needs this many feeds with a learned cadence, all down


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _severity(kind: OpsKind, tier: str) -> Severity:
    wire = tier == SourceTier.WIRE
    if kind == "tier_silent":
        return "high" if wire else "medium"
    return "medium" if wire else "low"


def _alert(
    kind: OpsKind,
    subject: str,
    *,
    tier: str,
    since: datetime,
    now: datetime,
    message: str,
    **details: str | float | int | None,
) -> OpsAlert:
    return OpsAlert(
        ops_id=f"{kind}:{subject}:{since.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        kind=kind,
        status="firing",
        severity=_severity(kind, tier),
        subject=subject,
        tier=tier,
        since=since,
        at=now,
        message=message,
        details=details,
    )


def _feed_condition(
    feed: FeedConfig, state: FeedState, now: datetime, policy: HealthPolicy
) -> OpsAlert | None:
    if state.consecutive_failures >= policy.failing_after:
        since = state.last_success or state.last_attempt or now
        return _alert(
            "feed_failing",
            feed.id,
            tier=feed.tier,
            since=since,
            now=now,
            message=f"{feed.name} ({feed.id}) failed {state.consecutive_failures} polls in a row: "
            f"{state.last_error}",
            failures=state.consecutive_failures,
            last_error=state.last_error,
            last_success=state.last_success.isoformat() if state.last_success else None,
        )
    if (
        state.last_new_item
        and state.mean_gap_s
        and state.is_silent(now, policy.silent_factor, policy.silent_floor_s)
    ):
        quiet = (now - state.last_new_item).total_seconds()
        return _alert(
            "feed_silent",
            feed.id,
            tier=feed.tier,
            since=state.last_new_item,
            now=now,
            message=f"{feed.name} ({feed.id}) has published nothing for {_duration(quiet)}; "
            f"it usually publishes every {_duration(state.mean_gap_s)}",
            silent_s=round(quiet),
            usual_gap_s=round(state.mean_gap_s, 1),
            last_new_item=state.last_new_item.isoformat(),
        )
    return None


def conditions(
    feeds: Iterable[FeedConfig], states: Mapping[str, FeedState], now: datetime, policy: HealthPolicy
) -> dict[str, OpsAlert]:
    """Every unhealthy feed and tier now, keyed ``<kind>:<subject>``; disabled feeds are left out."""
    found: dict[str, OpsAlert] = {}
    by_tier: dict[str, list[tuple[FeedState, OpsAlert | None]]] = {}
    for feed in feeds:
        state = states.get(feed.id)
        if not feed.enabled or state is None or state.disabled_reason:
            continue
        alert = _feed_condition(feed, state, now, policy)
        if alert is not None:
            found[f"{alert.kind}:{alert.subject}"] = alert
        if state.mean_gap_s is not None:
            by_tier.setdefault(feed.tier, []).append((state, alert))
    for tier, members in by_tier.items():
        if len(members) >= policy.tier_min_feeds and all(alert for _, alert in members):
            latest = max((s.last_new_item or s.last_success or now) for s, _ in members)
            alert = _alert(
                "tier_silent",
                tier,
                tier=tier,
                since=latest,
                now=now,
                message=f"every {tier} feed ({len(members)}) is silent or failing; the last new item came "
                f"{_duration((now - latest).total_seconds())} ago",
                feeds=len(members),
            )
            found[f"tier_silent:{tier}"] = alert
    return found


def _subject_key(key: str) -> str:
    """The ownership key of a condition: the feed id, or ``tier:<tier>``."""
    kind, _, subject = key.partition(":")
    return f"tier:{subject}" if kind == "tier_silent" else subject


class HealthAlerter:
    def __init__(
        self,
        table: Table,
        emit: Callable[[OpsAlert], None],
        policy: HealthPolicy = HealthPolicy(),
        *,
        owns: Callable[[str], bool] = lambda _key: True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._table = table
        self._emit = emit  # returns once the event is durable (acks=all)
        self.policy = policy
        self.owns = owns
        self._clock = clock

    def check(self, feeds: Sequence[FeedConfig], states: Mapping[str, FeedState]) -> list[OpsAlert]:
        """Raise what started, clear what ended (and what was replaced by a new episode); returns the
        events sent."""
        now = self._clock()
        current = {
            key: alert
            for key, alert in conditions(feeds, states, now, self.policy).items()
            if self.owns(_subject_key(key))
        }
        open_ = {key: OpsAlert.model_validate(row) for key, row in self._table.items()}
        sent = []
        for key, was in open_.items():
            if self.owns(_subject_key(key)) and (key not in current or current[key].ops_id != was.ops_id):
                cleared = was.model_copy(
                    update={"status": "cleared", "at": now, "message": f"recovered: {was.message}"}
                )
                self._emit(cleared)
                self._table.put(key, None)
                sent.append(cleared)
        for key, alert in current.items():
            if key not in open_ or open_[key].ops_id != alert.ops_id:
                self._emit(alert)
                self._table.put(key, alert.model_dump(mode="json"))
                sent.append(alert)
        for event in sent:
            log.warning(
                "ops alert %s",
                event.status,
                extra={
                    "ops.id": event.ops_id,
                    "event.severity": event.severity,
                    "message.text": event.message,
                },
            )
        return sent
