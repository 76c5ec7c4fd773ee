"""The notifier: consume ``watchfloor.alerts``, route each alert, and hand it to each destination's
worker (connectors/notify/workers.py), which delivers a message per alert or per story.

- What each destination was sent is recorded on the compacted state topic (``notify:`` keys), acks=all,
  before the alert's offset may be committed: the delivery ledger for per-topic destinations, a story
  state for per-story ones. A restart or a rebalance therefore skips what was already settled.
- A Kafka offset is committed only when every destination routed from that record, and every record
  before it in the partition, is settled (delivered, dead-lettered, queued for a digest, or for a
  story, found not to change it materially).

What is not prevented: a crash after a receiver answered 2xx but before that write. The message
is sent again after the restart, with the same idempotency key (``webhook-id`` = the alert id, or the
story message's id). Signed webhooks and PagerDuty (``dedup_key``) collapse it; Slack and Teams cannot.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import SecretStr, ValidationError

from connectors.kafka_group import subscribe_with_partitions
from connectors.kafka_sink import dead_letter_record, make_producer
from connectors.notify.delivery import Sender
from connectors.notify.ops import OPS_PREFIX, OpsTask, OpsWorker, ops_destinations
from connectors.notify.routing import matches
from connectors.notify.table import CompactedTable
from connectors.notify.workers import AlertWorker, StoryWorker, Task, Worker
from schemas.alert import AlertDoc
from schemas.deadletter import DeadLetter, describe_validation
from schemas.notify import Destination, NotifyConfig
from schemas.opsalert import OpsAlert

log = logging.getLogger("watchfloor.notify")

LEDGER_PREFIX = "notify:delivery:"
STORY_PREFIX = "notify:story:"
SNOOZE_PREFIX = "notify:snooze:"
SNOOZE_REFRESH_S = 5.0
UNASSIGNED_LOG_S = 30.0
"""How often a notifier that owns no partition yet says so (it keeps polling, 200 ms at a time)."""
TOPIC_METADATA_WAIT_S = 30.0
"""How long a starting notifier waits for its topics' partitions to be known before it joins its group."""


@dataclass(frozen=True)
class Credentials:
    url: SecretStr
    secret: SecretStr | None


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.consumed = Counter("watchfloor_notify_alerts_consumed_total", "Alert messages read.", registry=r)
        self.deliveries = Counter(
            "watchfloor_notify_deliveries_total",
            "Alerts by destination and fate (delivered, dead, duplicate, snoozed, digested, not_material).",
            ["destination", "outcome"],
            registry=r,
        )
        self.story_messages = Counter(
            "watchfloor_notify_story_messages_total",
            "Story messages, story digests and PagerDuty resolves sent, by destination and outcome "
            "(delivered, dead).",
            ["destination", "kind", "outcome"],
            registry=r,
        )
        self.attempts = Counter(
            "watchfloor_notify_attempts_total", "HTTP attempts by destination.", ["destination"], registry=r
        )
        self.delivery_seconds = Histogram(
            "watchfloor_notify_delivery_seconds",
            "From dequeue to settled, retries included.",
            ["destination"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.dead_letters = Counter(
            "watchfloor_notify_dead_letters_total", "Dead letters by stage.", ["stage"], registry=r
        )


class Snoozes:
    """``watchfloor alerts snooze``: silenced stories and actors, until a UTC time."""

    def __init__(self, table: CompactedTable) -> None:
        self._table = table

    @staticmethod
    def key(kind: str, value: str) -> str:
        return f"{kind}:{value}"

    def refresh(self) -> None:
        """Pick up snoozes set since (``watchfloor alerts snooze`` writes from another process)."""
        self._table.refresh()

    def close(self) -> None:
        self._table.close()

    def add(self, kind: str, value: str, until: datetime, by: str = "") -> None:
        if kind not in ("story", "actor"):
            raise ValueError("snooze kind is 'story' or 'actor'")
        if until.tzinfo is None:
            raise ValueError("until must be timezone-aware")
        self._table.put(self.key(kind, value), {"until": until.isoformat(), "by": by})

    def story_until(self, story_id: str) -> datetime | None:
        """Until when the story is snoozed, if it ever was."""
        row = self._table.get(self.key("story", story_id))
        return datetime.fromisoformat(row["until"]) if row else None

    def snoozed(self, alert: AlertDoc, now: datetime) -> str | None:
        """What silences the alert ("story:…" / "actor:…"), or None."""
        w = alert.watchfloor
        for key in [self.key("story", w.story_id), *(self.key("actor", a) for a in w.actor_ids)]:
            row = self._table.get(key)
            if row and datetime.fromisoformat(row["until"]) > now:
                return key
        return None


class _Progress:
    """Per partition: records read in order, how many deliveries each still waits for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[TopicPartition, dict[int, int]] = {}
        self._read: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}

    def read(self, tp: TopicPartition, offset: int, deliveries: int) -> None:
        with self._lock:
            if deliveries:
                self._pending.setdefault(tp, {})[offset] = deliveries
            self._read[tp] = offset + 1

    def settle(self, tp: TopicPartition, offset: int) -> None:
        with self._lock:
            pending = self._pending.get(tp, {})
            if offset in pending:
                pending[offset] -= 1
                if not pending[offset]:
                    del pending[offset]

    def commit_positions(self) -> dict[TopicPartition, int]:
        """Positions that moved since the last call: the first unsettled offset, else past the last read."""
        with self._lock:
            moved = {}
            for tp, end in self._read.items():
                pending = self._pending.get(tp)
                position = min(pending) if pending else end
                if self._committed.get(tp) != position:
                    moved[tp] = position
            return moved

    def unsettled(self) -> int:
        with self._lock:
            return sum(sum(p.values()) for p in self._pending.values())

    def committed(self, positions: dict[TopicPartition, int]) -> None:
        with self._lock:
            self._committed.update(positions)

    def forget(self, tps: list[TopicPartition]) -> None:
        with self._lock:
            for tp in tps:
                self._pending.pop(tp, None)
                self._read.pop(tp, None)
                self._committed.pop(tp, None)


class Notifier:
    def __init__(
        self,
        config: NotifyConfig,
        credentials: dict[str, Credentials],
        *,
        bootstrap: str,
        alerts_topic: str,
        dead_letter_topic: str,
        state_topic: str,
        group_id: str,
        metrics: NotifyMetrics | None = None,
        sender_factory: Callable[[Destination, str, threading.Event], Sender] | None = None,
        ops_topic: str | None = None,
    ) -> None:
        missing = [d.id for d in config.destinations if d.id not in credentials]
        if missing:
            raise ValueError(f"no credentials for destinations {missing}")
        self.config = config
        self.metrics = metrics or NotifyMetrics()
        self.stop_event = threading.Event()
        self.progress = _Progress()
        self.sender_factory = sender_factory or (lambda d, url, stop: Sender(d, url, stop=stop))
        self._bootstrap = bootstrap
        self._alerts_topic = alerts_topic
        self._dead_letter_topic = dead_letter_topic
        self._group_id = group_id
        self.unassigned_log_s = UNASSIGNED_LOG_S
        self.ledger = CompactedTable(bootstrap, state_topic, LEDGER_PREFIX)
        self.snoozes = Snoozes(CompactedTable(bootstrap, state_topic, SNOOZE_PREFIX))
        self._dead = make_producer(bootstrap)
        self._ledger_lock = threading.Lock()
        self.stories = CompactedTable(bootstrap, state_topic, STORY_PREFIX)
        self._workers: dict[str, Worker] = {
            d.id: (StoryWorker if d.granularity == "story" else AlertWorker)(self, d, credentials[d.id])
            for d in config.destinations
        }
        self._ops_topic = ops_topic
        self.ops_ledger = CompactedTable(bootstrap, state_topic, OPS_PREFIX) if ops_topic else None
        self._ops_workers = (
            [OpsWorker(self, d, credentials[d.id], self.ops_ledger) for d in ops_destinations(config)]
            if self.ops_ledger
            else []
        )

    # --- durable state -----------------------------------------------------------------------------

    @staticmethod
    def ledger_key(dest_id: str, alert_id: str) -> str:
        return f"{dest_id}:{alert_id}"

    def put_ledger(self, key: str, value: dict[str, Any]) -> None:
        with self._ledger_lock:
            self.ledger.put(key, value)

    def dead_letter(self, stage: str, reason: str, origin: str, payload: str | bytes | None) -> None:
        letter = DeadLetter.of(stage, reason, origin, payload)
        key, value = dead_letter_record(letter)
        self._dead.send(self._dead_letter_topic, key=key, value=value).get(timeout=60)
        self.metrics.dead_letters.labels(stage).inc()

    # --- consuming ----------------------------------------------------------------------------------

    def _route(self, tp: TopicPartition, offset: int, value: bytes | None) -> None:
        """Decide every destination's fate for one record; queue the deliveries still to do."""
        self.metrics.consumed.inc()
        if tp.topic == self._ops_topic:
            self._route_ops(tp, offset, value)
            return
        try:
            alert = AlertDoc.model_validate_json(value or b"")
        except ValidationError as exc:
            reason = describe_validation(exc, limit=5)
            self.dead_letter(
                "NotifyDecode", f"not a valid alert: {reason}", f"{tp.topic}/{tp.partition}@{offset}", value
            )
            self.progress.read(tp, offset, 0)
            return
        silenced = self.snoozes.snoozed(alert, datetime.now(UTC))
        tasks = [
            (worker, Task(tp, offset, alert, time.monotonic()))
            for worker in self._workers.values()
            if matches(worker.dest.route, alert) and worker.admit(alert, silenced)
        ]
        self.progress.read(tp, offset, len(tasks))
        for worker, task in tasks:
            while not self.stop_event.is_set():
                try:
                    worker.queue.put(task, timeout=0.5)
                    break
                except queue.Full:
                    continue  # back-pressure: this destination is behind

    def _route_ops(self, tp: TopicPartition, offset: int, value: bytes | None) -> None:
        """An operational alert: routed by the config's ``ops`` section to the ops workers."""
        try:
            alert = OpsAlert.model_validate_json(value or b"")
        except ValidationError as exc:
            reason = describe_validation(exc, limit=5)
            origin = f"{tp.topic}/{tp.partition}@{offset}"
            self.dead_letter("NotifyDecode", f"not a valid ops alert: {reason}", origin, value)
            self.progress.read(tp, offset, 0)
            return
        tasks = [w for w in self._ops_workers if w.wants(alert) and w.admit(alert)]
        self.progress.read(tp, offset, len(tasks))
        for worker in tasks:
            while not self.stop_event.is_set():
                try:
                    worker.queue.put(OpsTask(tp, offset, alert), timeout=0.5)
                    break
                except queue.Full:
                    continue

    def commit(self, consumer: KafkaConsumer) -> None:
        positions = self.progress.commit_positions()
        if not positions:
            return
        try:
            consumer.commit({tp: OffsetAndMetadata(pos, "", -1) for tp, pos in positions.items()})
            self.progress.committed(positions)
        except Exception:  # a rebalance in flight; the next round commits what is still ours
            log.warning("offset commit failed; retrying next round", exc_info=True)

    def run(self, *, idle_exit_s: float | None = None) -> None:
        """Consume until `stop()`; with `idle_exit_s`, also return once nothing arrived for that long,
        every partition is read to its end, every delivery settled and no digest waits (tests,
        one-shot runs); until it owns a partition it says so now and then. Raises RuntimeError once
        stopped if a destination's worker failed: better a restart than waiting for alerts nothing will
        settle."""
        workers: list[Worker | OpsWorker] = [*self._workers.values(), *self._ops_workers]
        for worker in workers:
            worker.start()
        consumer = KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=100,
            # A crashed notifier's partitions move to a live one within ~10 s, not the 45 s default.
            session_timeout_ms=10_000,
            heartbeat_interval_ms=3_000,
        )
        topics = list(dict.fromkeys([self._alerts_topic, *([self._ops_topic] if self._ops_topic else [])]))
        missing = subscribe_with_partitions(
            consumer, topics, _Rebalance(self, consumer), TOPIC_METADATA_WAIT_S
        )
        if missing:
            log.warning("no partition metadata for %s after %.0f s", missing, TOPIC_METADATA_WAIT_S)
        idle_since = time.monotonic()
        snoozes_read = time.monotonic()
        unassigned = _Unassigned(self._group_id, self.unassigned_log_s)
        try:
            while not self.stop_event.is_set():
                if time.monotonic() - snoozes_read >= SNOOZE_REFRESH_S:
                    self.snoozes.refresh()
                    snoozes_read = time.monotonic()
                batch = consumer.poll(timeout_ms=200)
                for tp, records in batch.items():
                    for rec in records:
                        self._route(tp, rec.offset, rec.value)
                assigned = bool(consumer.assignment())
                unassigned.check(assigned)
                if batch or not assigned:  # idle only counts once we own partitions
                    idle_since = time.monotonic()
                self.commit(consumer)
                if (
                    idle_exit_s is not None
                    and time.monotonic() - idle_since >= idle_exit_s
                    and not self.progress.unsettled()
                    and not self.progress.commit_positions()
                    and not any(w.digest_waiting() for w in self._workers.values())
                    and _caught_up(consumer)
                ):
                    break
        finally:
            self.stop_event.set()
            for worker in workers:
                worker.join(timeout=30)
            self.commit(consumer)
            consumer.close(autocommit=False)
            self._dead.close()
            self.ledger.close()
            self.stories.close()
            self.snoozes.close()
            if self.ops_ledger:
                self.ops_ledger.close()
        failed = [w.dest.id for w in workers if w.failure is not None]
        if failed:
            raise RuntimeError(f"the workers of destinations {failed} failed; see the log")

    def stop(self) -> None:
        self.stop_event.set()


def _caught_up(consumer: KafkaConsumer) -> bool:
    """Whether the consumer has read all its partitions held when asked: an idle exit waits for this,
    not for a quiet spell alone, which a slow first fetch on a loaded machine would pass for idle."""
    assigned = list(consumer.assignment())
    if not assigned:
        return False
    try:
        ends = consumer.end_offsets(assigned, timeout_ms=5_000)
        return all((consumer.position(tp, timeout_ms=5_000) or 0) >= end for tp, end in ends.items())
    except KafkaError:
        return False  # a rebalance or a slow broker: ask again next round


class _Unassigned:
    """Says, every `every_s` while it lasts, that the consumer owns no partition yet: a notifier that
    waits for a rebalance (another member still holds its partitions, or the coordinator is moving)
    should not look like one that is idle."""

    def __init__(self, group_id: str, every_s: float) -> None:
        self._group_id = group_id
        self._every_s = every_s
        self._since = time.monotonic()
        self._said = self._since

    def check(self, assigned: bool) -> None:
        now = time.monotonic()
        if assigned:
            self._since = self._said = now
        elif now - self._said >= self._every_s:
            self._said = now
            log.warning(
                "no partition assigned yet after %.0f s; still waiting for the group's rebalance",
                now - self._since,
                extra={"group.id": self._group_id},
            )


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, notifier: Notifier, consumer: KafkaConsumer) -> None:
        self._n = notifier
        self._consumer = consumer

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._n.commit(self._consumer)  # the settled work of partitions we are losing
        self._n.progress.forget(list(revoked))

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._n.ledger.refresh()  # what the previous owner delivered is skipped
        self._n.stories.refresh()
        if self._n.ops_ledger:
            self._n.ops_ledger.refresh()
