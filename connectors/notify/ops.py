"""Operational alerts in the notifier: the ingester's ``OpsAlert`` events (a source silent or
failing, then its clear), routed by the config's ``ops`` section, not by the news routes.

Like a per-topic destination: a durable ledger on the compacted state topic
(``notify:ops:<destination>:<event id>``) records each event delivered, dead-lettered or queued for the
digest before its offset may be committed, so a replay or a restart sends nothing twice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kafka import TopicPartition

from connectors.notify.ops_formats import render_ops
from connectors.notify.table import CompactedTable
from connectors.notify.workers import POLL_S, QUEUE_SIZE, digest_id
from schemas.notify import Destination, NotifyConfig, OpsRoute, severity_at_least
from schemas.opsalert import OpsAlert

if TYPE_CHECKING:
    from connectors.notify.notifier import Credentials, Notifier

log = logging.getLogger("watchfloor.notify")

OPS_PREFIX = "notify:ops:"


@dataclass(frozen=True)
class OpsTask:
    tp: TopicPartition
    offset: int
    alert: OpsAlert


def ops_destinations(config: NotifyConfig) -> list[Destination]:
    chosen = set(config.ops.destinations)
    return [d for d in config.destinations if not chosen or d.id in chosen]


class OpsWorker(threading.Thread):
    """One destination's operational alerts, in order, and their digest when one is due."""

    def __init__(
        self, notifier: Notifier, dest: Destination, creds: Credentials, ledger: CompactedTable
    ) -> None:
        super().__init__(name=f"notify-ops-{dest.id}", daemon=True)
        self.dest = dest
        self.route: OpsRoute = notifier.config.ops
        self.queue: queue.Queue[OpsTask] = queue.Queue(QUEUE_SIZE)
        self.failure: Exception | None = None
        self._n = notifier
        self._ledger = ledger
        self._secret = creds.secret.get_secret_value() if creds.secret else None
        self._sender = notifier.sender_factory(dest, creds.url.get_secret_value(), notifier.stop_event)
        digest = self.route.digest if dest.kind != "pagerduty" else None
        self._digest_every = digest.every_minutes * 60 if digest else None
        self._next_digest = time.monotonic() + (self._digest_every or 0)

    def _digested(self, alert: OpsAlert) -> bool:
        digest = self.route.digest
        return digest is not None and not severity_at_least(alert.severity, digest.below)

    def wants(self, alert: OpsAlert) -> bool:
        """Routed here: severe enough, and for PagerDuty only what is not for a digest (one incident)."""
        if not severity_at_least(alert.severity, self.route.min_severity):
            return False
        return self.dest.kind != "pagerduty" or not self._digested(alert)

    def admit(self, alert: OpsAlert) -> bool:
        """Work for the queue, or already settled here: a duplicate, or queued for the digest."""
        key = f"{self.dest.id}:{alert.event_id}"
        if self._ledger.get(key) is not None:
            self._n.metrics.deliveries.labels(self.dest.id, "duplicate").inc()
            return False
        if self._digested(alert):
            row = {
                "status": "queued",
                "at": datetime.now(UTC).isoformat(),
                "alert": alert.model_dump(mode="json"),
            }
            self._ledger.put(key, row)
            self._n.metrics.deliveries.labels(self.dest.id, "digested").inc()
            return False
        return True

    def run(self) -> None:
        try:
            while not self._n.stop_event.is_set():
                try:
                    task = self.queue.get(timeout=POLL_S)
                except queue.Empty:
                    task = None
                if task is not None and self._deliver([task.alert], task.alert.event_id):
                    self._n.progress.settle(task.tp, task.offset)
                if self._digest_every and time.monotonic() >= self._next_digest:
                    self._send_digest()
                    self._next_digest = time.monotonic() + self._digest_every
        except Exception as exc:  # a bug: stop, leaving offsets uncommitted for a restart
            log.exception("ops worker failed; stopping the notifier", extra={"destination": self.dest.id})
            self.failure = exc
            self._n.stop()
        finally:
            self._sender.close()

    def _send_digest(self) -> None:
        prefix = f"{self.dest.id}:"
        rows = [v for k, v in self._ledger.items() if k.startswith(prefix) and v.get("status") == "queued"]
        queued = [OpsAlert.model_validate(r["alert"]) for r in sorted(rows, key=lambda r: r["at"])]
        if queued:
            self._deliver(queued, digest_id(a.event_id for a in queued))

    def _deliver(self, alerts: list[OpsAlert], msg_id: str) -> bool:
        """Send and record the outcome durably; False when stopped first (nothing recorded)."""
        try:
            message = render_ops(self.dest, alerts, secret=self._secret, msg_id=msg_id, now=datetime.now(UTC))
        except ValueError as exc:
            log.error(
                "cannot render ops alert", extra={"destination": self.dest.id, "error.message": str(exc)}
            )
            return True
        outcome = self._sender.deliver(message)
        if outcome is None:
            return False
        status = "delivered" if outcome.delivered else "dead"
        for alert in alerts:
            if not outcome.delivered:
                self._n.dead_letter(
                    "NotifyDeliver",
                    f"{self.dest.id}: {outcome.detail}",
                    f"{self.dest.id}/{alert.event_id}",
                    alert.model_dump_json(),
                )
            row = {"status": status, "at": datetime.now(UTC).isoformat(), "attempts": outcome.attempts}
            self._ledger.put(f"{self.dest.id}:{alert.event_id}", row)
            self._n.metrics.deliveries.labels(self.dest.id, status).inc()
        log.info("ops alert %s", status, extra={"destination": self.dest.id, "message.id": msg_id})
        return True
