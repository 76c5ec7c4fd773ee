"""Prometheus metrics of the ingester: outcomes and error classes as labels, never feed ids."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.polls = Counter(
            "watchfloor_ingest_polls_total", "Feed polls by outcome.", ["outcome"], registry=r
        )
        self.poll_errors = Counter(
            "watchfloor_ingest_poll_errors_total", "Failed polls by error class.", ["kind"], registry=r
        )
        self.items = Counter(
            "watchfloor_ingest_items_published_total", "Items acknowledged by Kafka.", registry=r
        )
        self.dead_letters = Counter(
            "watchfloor_ingest_dead_letters_total",
            "Inputs sent to the dead-letter topic.",
            ["stage"],
            registry=r,
        )
        self.fetch_seconds = Histogram(
            "watchfloor_ingest_fetch_seconds",
            "Time to fetch one feed, redirects and body included.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.feeds = Gauge("watchfloor_ingest_feeds", "Feeds by health state.", ["state"], registry=r)
        self.registry_errors = Gauge(
            "watchfloor_ingest_registry_errors", "Registry entries rejected by validation.", registry=r
        )
        self.pushes = Counter(
            "watchfloor_ingest_websub_pushes_total",
            "WebSub content distributions by outcome (ok, or why not ingested).",
            ["outcome"],
            registry=r,
        )
