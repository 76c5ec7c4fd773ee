"""Kafka topics Watchfloor owns, with the configs they are created with."""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


ITEMS = TopicSpec(
    "watchfloor.items",
    partitions=3,
    configs={"retention.ms": str(14 * DAY_MS), "compression.type": "producer", "min.insync.replicas": "1"},
)
ALERTS = TopicSpec("watchfloor.alerts", partitions=3, configs={"retention.ms": str(30 * DAY_MS)})
# Operational alerts of the ingester (a feed or tier silent, a feed failing), read by the notifier.
OPS_ALERTS = TopicSpec("watchfloor.ops-alerts", partitions=1, configs={"retention.ms": str(30 * DAY_MS)})
DEAD_LETTERS = TopicSpec("watchfloor.dead-letters", partitions=1, configs={"retention.ms": str(30 * DAY_MS)})
# Durable, host-independent state (feed validators and schedules, delivery ledger): latest value per key.
STATE = TopicSpec(
    "watchfloor.state",
    partitions=3,
    configs={"cleanup.policy": "compact", "min.compaction.lag.ms": "60000", "segment.ms": str(DAY_MS)},
)

# Carries no records: ingest processes join one consumer group on it, and the partitions each is
# assigned say which feeds it polls (feed -> crc32(id) % partitions). At most this many processes.
INGEST_LEASES = TopicSpec("watchfloor.ingest-leases", partitions=12)
