"""One worker thread per destination: it decides what an alert routed there becomes, delivers it, and
records the outcome durably before the alert's offset may be committed.

- `AlertWorker` (granularity ``topic``): a message per alert revision. The delivery ledger
  (``notify:delivery:<destination>:<alert_id>``) records each alert delivered, dead-lettered or queued
  for a digest, so a replayed alert is skipped.
- `StoryWorker` (granularity ``story``): a story's alerts are held for ``coalesce_s`` and folded
  into what the destination was told about the story (``notify:story:<destination>:<story_id>``,
  connectors/notify/story.py); a message goes only when that changed materially. A replayed alert is
  one whose topic revision the story state already holds.

A destination that is down delays only its own work, until its queue is full and back-pressure
reaches the consumer.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from kafka import TopicPartition

from connectors.notify.coalesce import Holds
from connectors.notify.delivery import Outcome
from connectors.notify.formats import render
from connectors.notify.markup import Rendered, fits
from connectors.notify.story import StoryState, decide, fold
from connectors.notify.story_formats import render_resolve, render_stories
from schemas.alert import AlertDoc
from schemas.notify import Destination, severity_at_least

if TYPE_CHECKING:
    from connectors.notify.notifier import Credentials, Notifier

log = logging.getLogger("watchfloor.notify")
T = TypeVar("T")

QUEUE_SIZE = 1000
POLL_S = 0.2
SWEEP_S = 3600.0
"""How often a story worker forgets the stories that expired (`story_ttl_hours`)."""


@dataclass(frozen=True)
class Task:
    tp: TopicPartition
    offset: int
    alert: AlertDoc
    enqueued: float


def digest_id(ids: Iterable[str]) -> str:
    """A digest's idempotency key, from what it lists."""
    return "digest-" + hashlib.sha256("\x00".join(sorted(ids)).encode()).hexdigest()[:24]


def _halves(items: Sequence[T], part_id: Callable[[Sequence[T]], str]) -> list[tuple[Sequence[T], str]]:
    middle = len(items) // 2
    return [(half, part_id(half)) for half in (items[:middle], items[middle:])]


class Worker(threading.Thread, ABC):
    """Delivers one destination's messages in order, and its digest when one is due."""

    def __init__(self, notifier: Notifier, dest: Destination, creds: Credentials) -> None:
        super().__init__(name=f"notify-{dest.id}", daemon=True)
        self.dest = dest
        self.queue: queue.Queue[Task] = queue.Queue(QUEUE_SIZE)
        self._n = notifier
        self._secret = creds.secret.get_secret_value() if creds.secret else None
        self._sender = notifier.sender_factory(dest, creds.url.get_secret_value(), notifier.stop_event)
        every = dest.digest.every_minutes * 60 if dest.digest else None
        self._digest_every = every
        self._next_digest = time.monotonic() + every if every else None
        self.failure: Exception | None = None

    @abstractmethod
    def admit(self, alert: AlertDoc, silenced: str | None) -> bool:
        """Whether the routed `alert` is work for this worker (queued next), or already settled here:
        a duplicate, snoozed (`silenced` says by what), or queued for a digest."""

    @abstractmethod
    def _step(self) -> None:
        """Take what the queue holds and deliver what is due."""

    @abstractmethod
    def _send_digest(self) -> None: ...

    @abstractmethod
    def digest_waiting(self) -> bool:
        """Whether anything waits for this destination's next digest."""

    def run(self) -> None:
        try:
            while not self._n.stop_event.is_set():
                self._step()
                if self._next_digest is not None and time.monotonic() >= self._next_digest:
                    self._send_digest()
                    self._next_digest = time.monotonic() + (self._digest_every or 0)
        except Exception as exc:
            # A bug, not a failed delivery (that is an outcome). Without this worker its alerts would
            # never settle and the notifier would wait for ever; stopping it leaves their offsets
            # uncommitted, so a restart resumes at them.
            log.exception(
                "destination worker failed; stopping the notifier", extra={"destination": self.dest.id}
            )
            self.failure = exc
            self._n.stop()
        finally:
            self._sender.close()

    def _snoozed(self, alert: AlertDoc, silenced: str | None) -> bool:
        if silenced:
            self._n.metrics.deliveries.labels(self.dest.id, "snoozed").inc()
            log.info(
                "alert snoozed",
                extra={
                    "destination": self.dest.id,
                    "alert.id": alert.watchfloor.alert_id,
                    "snooze": silenced,
                },
            )
        return silenced is not None

    def _send(
        self,
        items: Sequence[T],
        msg_id: str,
        part_id: Callable[[Sequence[T]], str],
        rendered: Callable[[Sequence[T], str, datetime], Rendered],
    ) -> tuple[list[tuple[Sequence[T], str, Outcome]], bool]:
        """Render and deliver `items` as one message or, when that is too large for the destination (over
        its size limit, or refused with 413), as halves with ids of their own (`part_id`), halved again
        as long as needed: one oversized digest must not dead-letter every entry in it. A message that
        cannot be rendered is a permanent failure (dead letter). Returns each part, its id and outcome,
        and whether it stopped first: the parts not sent are neither delivered nor dead, a restart tries
        again."""
        sent: list[tuple[Sequence[T], str, Outcome]] = []
        pending: list[tuple[Sequence[T], str]] = [(items, msg_id)]
        while pending:
            part, pid = pending.pop(0)
            try:
                message = rendered(part, pid, datetime.now(UTC))
            except ValueError as exc:
                sent.append((part, pid, Outcome(False, 0, f"cannot render: {exc}")))
                continue
            if len(part) > 1 and not fits(self.dest, message):
                pending[:0] = _halves(part, part_id)
                continue
            outcome = self._sender.deliver(message)
            if outcome is None:
                return sent, True
            self._n.metrics.attempts.labels(self.dest.id).inc(outcome.attempts)
            if outcome.too_large and len(part) > 1:
                pending[:0] = _halves(part, part_id)
                continue
            sent.append((part, pid, outcome))
        return sent, False

    def _settled(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self._n.metrics.delivery_seconds.labels(self.dest.id).observe(time.monotonic() - task.enqueued)
            self._n.progress.settle(task.tp, task.offset)


class AlertWorker(Worker):
    """Granularity ``topic``: one message per alert revision."""

    def admit(self, alert: AlertDoc, silenced: str | None) -> bool:
        n = self._n
        key = n.ledger_key(self.dest.id, alert.watchfloor.alert_id)
        if n.ledger.get(key) is not None:
            n.metrics.deliveries.labels(self.dest.id, "duplicate").inc()
            return False
        if self._snoozed(alert, silenced):
            return False
        digest = self.dest.digest
        if digest and not severity_at_least(alert.watchfloor.severity, digest.below):
            n.put_ledger(
                key, {"status": "queued", "at": datetime.now(UTC).isoformat(), "alert": alert.to_es()}
            )
            n.metrics.deliveries.labels(self.dest.id, "digested").inc()
            return False
        return True

    def _step(self) -> None:
        try:
            task = self.queue.get(timeout=POLL_S)
        except queue.Empty:
            return
        if self._send_alerts([task.alert], task.alert.watchfloor.alert_id):
            self._settled([task])  # else stopping: the offset stays uncommitted

    def _queued(self) -> list[dict[str, Any]]:
        prefix = f"{self.dest.id}:"
        return [v for k, v in self._n.ledger.items() if k.startswith(prefix) and v.get("status") == "queued"]

    def digest_waiting(self) -> bool:
        return bool(self._queued())

    def _send_digest(self) -> None:
        rows = self._queued()
        queued = [AlertDoc.model_validate(r["alert"]) for r in sorted(rows, key=lambda r: r["at"])]
        if queued:
            self._send_alerts(queued, digest_id(a.watchfloor.alert_id for a in queued))

    def _send_alerts(self, alerts: list[AlertDoc], msg_id: str) -> bool:
        """Deliver and record; False when stopped first."""
        sent, stopped = self._send(
            alerts,
            msg_id,
            lambda part: digest_id(a.watchfloor.alert_id for a in part),
            lambda part, pid, now: render(
                self.dest,
                part,
                kibana_url=self._n.config.kibana_url,
                secret=self._secret,
                msg_id=pid,
                now=now,
            ),
        )
        for part, _, outcome in sent:
            self._record(part, outcome)
        return not stopped

    def _record(self, alerts: Sequence[AlertDoc], outcome: Outcome) -> None:
        """The outcome in the ledger, durably: delivered, or dead-lettered with the reason."""
        n = self._n
        status = "delivered" if outcome.delivered else "dead"
        now = datetime.now(UTC).isoformat()
        for alert in alerts:
            aid = alert.watchfloor.alert_id
            if not outcome.delivered:
                n.dead_letter(
                    "NotifyDeliver",
                    f"{self.dest.id}: {outcome.detail}",
                    f"{self.dest.id}/{aid}",
                    alert.model_dump_json(by_alias=True),
                )
            n.put_ledger(
                n.ledger_key(self.dest.id, aid), {"status": status, "at": now, "attempts": outcome.attempts}
            )
            n.metrics.deliveries.labels(self.dest.id, status).inc()
            log.info(
                "alert %s",
                status,
                extra={
                    "destination": self.dest.id,
                    "alert.id": aid,
                    "attempts": outcome.attempts,
                    "detail": outcome.detail,
                },
            )


class StoryWorker(Worker):
    """Granularity ``story``: one message per story, then an update only on a material change."""

    def __init__(self, notifier: Notifier, dest: Destination, creds: Credentials) -> None:
        super().__init__(notifier, dest, creds)
        self._holds: Holds[Task] = Holds(dest.coalesce_s)
        self._ttl = timedelta(hours=notifier.config.story_ttl_hours)
        self._next_sweep = time.monotonic()

    def admit(self, alert: AlertDoc, silenced: str | None) -> bool:
        return not self._snoozed(alert, silenced)  # duplicates are known only to the story's state

    def _step(self) -> None:
        due = self._holds.next_due()
        wait = POLL_S if due is None else min(POLL_S, max(0.0, due - time.monotonic()))
        try:
            task: Task | None = self.queue.get(timeout=wait)
        except queue.Empty:
            task = None
        while task is not None:  # and whatever else is queued: one poll's alerts of a story hold together
            self._holds.add(task.alert.watchfloor.story_id, task, time.monotonic())
            try:
                task = self.queue.get_nowait()
            except queue.Empty:
                task = None
        for group in self._holds.due(time.monotonic()):
            if self._n.stop_event.is_set() or not self._release(group):
                return  # stopping: the held offsets stay uncommitted, a restart reads them again
        if time.monotonic() >= self._next_sweep:
            self._forget_expired()
            self._next_sweep = time.monotonic() + SWEEP_S

    def _key(self, story_id: str) -> str:
        return f"{self.dest.id}:{story_id}"

    def _release(self, group: Sequence[Task]) -> bool:
        """Fold a story's held alerts into its state; send, queue for the digest, or only remember.
        False when stopped before the message was settled."""
        stories = self._n.stories
        row = stories.get(self._key(group[0].alert.watchfloor.story_id))
        before = StoryState.model_validate(row) if row else None
        state, fresh, now = before, 0, datetime.now(UTC)
        for task in group:
            if state is None or not state.knows(task.alert):
                state, fresh = fold(state, task.alert, now), fresh + 1
        deliveries = self._n.metrics.deliveries
        if len(group) > fresh:
            deliveries.labels(self.dest.id, "duplicate").inc(len(group) - fresh)
        if state is not None and state is not before:
            decision, state = decide(state, self.dest.digest.below if self.dest.digest else None)
            outcome: str = decision
            if decision == "send":
                sent = self._send_stories([state], state.message_id)
                if sent is None:
                    return False
                outcome, (state,) = sent
            stories.put(self._key(state.story_id), state.model_dump(mode="json"))
            deliveries.labels(self.dest.id, outcome).inc(fresh)
        self._settled(group)
        return True

    def _states(self) -> list[StoryState]:
        prefix = f"{self.dest.id}:"
        return [StoryState.model_validate(v) for k, v in self._n.stories.items() if k.startswith(prefix)]

    def digest_waiting(self) -> bool:
        return any(s.digest for s in self._states())

    def _send_digest(self) -> None:
        queued = sorted((s for s in self._states() if s.digest), key=lambda s: s.updated)
        if not queued:
            return
        sent = self._send_stories(queued, digest_id(s.message_id for s in queued))
        for state in sent[1] if sent else ():
            self._n.stories.put(self._key(state.story_id), state.model_dump(mode="json"))

    def _send_stories(self, states: list[StoryState], msg_id: str) -> tuple[str, list[StoryState]] | None:
        """Deliver a story message (one state) or a digest, in parts if it must be: the last part's
        "delivered" or "dead", and the states sent as they are afterwards (the message is their new
        baseline, or dead-lettered and no longer waiting for a digest); None when stopped first."""
        sent, stopped = self._send(
            states,
            msg_id,
            lambda part: digest_id(s.message_id for s in part),
            lambda part, pid, now: render_stories(
                self.dest,
                part,
                kibana_url=self._n.config.kibana_url,
                secret=self._secret,
                msg_id=pid,
                now=now,
            ),
        )
        if stopped and not sent:
            return None
        status, after = "dead", []
        for part, pid, outcome in sent:
            status = "delivered" if outcome.delivered else "dead"
            kind = "story" if len(states) == 1 else "digest"
            self._n.metrics.story_messages.labels(self.dest.id, kind, status).inc()
            for state in part:
                if outcome.delivered:
                    after.append(state.delivered())
                else:
                    self._n.dead_letter(
                        "NotifyDeliver",
                        f"{self.dest.id}: {outcome.detail}",
                        f"{self.dest.id}/{state.story_id}",
                        state.model_dump_json(),
                    )
                    after.append(state.model_copy(update={"digest": False}))
                log.info(
                    "story message %s",
                    status,
                    extra={
                        "destination": self.dest.id,
                        "story.id": state.story_id,
                        "message.id": pid,
                        "attempts": outcome.attempts,
                        "detail": outcome.detail,
                    },
                )
        return status, after

    def _forget_expired(self) -> None:
        """Tombstones for the stories that have been quiet for `story_ttl_hours`. At PagerDuty, the
        incident of such a story is resolved first, and that of a story snoozed past its expiry (for
        good: it will be forgotten before the snooze ends) is resolved at once."""
        now = datetime.now(UTC)
        for state in self._states():
            expired = state.expired(now, self._ttl)
            until = self._n.snoozes.story_until(state.story_id)
            for_good = until is not None and until >= state.updated + self._ttl
            if self.dest.kind == "pagerduty" and state.paged() and (expired or for_good):
                if not self._resolve(state):
                    return  # stopping: the next sweep resolves it
                if not expired:
                    resolved = state.model_copy(update={"resolved": True})
                    self._n.stories.put(self._key(state.story_id), resolved.model_dump(mode="json"))
            if expired:
                self._n.stories.put(self._key(state.story_id), None)

    def _resolve(self, state: StoryState) -> bool:
        """Resolve the story's PagerDuty incident; a refusal is dead-lettered. False when stopped first."""
        message = render_resolve(self.dest, state, secret=self._secret, now=datetime.now(UTC))
        outcome = self._sender.deliver(message)
        if outcome is None:
            return False
        status = "delivered" if outcome.delivered else "dead"
        self._n.metrics.story_messages.labels(self.dest.id, "resolve", status).inc()
        if not outcome.delivered:
            self._n.dead_letter(
                "NotifyDeliver",
                f"{self.dest.id}: resolve: {outcome.detail}",
                f"{self.dest.id}/{state.story_id}",
                state.model_dump_json(),
            )
        log.info(
            "incident resolve %s",
            status,
            extra={"destination": self.dest.id, "story.id": state.story_id, "detail": outcome.detail},
        )
        return True
