"""Wire the ingestion job from settings: registry, fetcher, Kafka publisher and state, group leases."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from prometheus_client import start_http_server

from connectors.feeds.assignment import GroupAssignment
from connectors.feeds.digest import ProcessDigester, digest
from connectors.feeds.http import Fetcher, FetchPolicy
from connectors.feeds.ingest import Ingester
from connectors.feeds.publish import ItemPublisher
from connectors.feeds.registry import load_registry, registry_files
from connectors.feeds.statestore import KafkaStateStore
from schemas.settings import IngestSettings, StackSettings

log = logging.getLogger("watchfloor.ingest")


def run_ingest(
    settings: IngestSettings, stack: StackSettings, *, registry: Path | None = None, once: bool = False
) -> int:
    """Run until SIGTERM/SIGINT (or one pass with ``once``); returns the number of failed polls."""
    feeds, errors = load_registry(registry_files(registry or settings.registry))
    for error in errors:
        log.error("invalid registry entry", extra={"feed.id": error.feed_id, "error.message": str(error)})
    store = KafkaStateStore(stack.kafka_bootstrap, settings.state_topic)
    publisher = ItemPublisher(stack.kafka_bootstrap, settings.items_topic, settings.dead_letter_topic)
    fetcher = Fetcher(
        FetchPolicy(
            per_host_concurrency=settings.per_host_concurrency,
            max_body_bytes=settings.max_body_bytes,
            allow_networks=settings.allow_networks,
        )
    )
    digester = ProcessDigester(settings.parse_processes) if settings.parse_processes else None
    ingester = Ingester(
        feeds, fetcher, publisher, store, workers=settings.workers, digester=digester or digest
    )
    ingester.metrics.registry_errors.set(len(errors))
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr="127.0.0.1", registry=ingester.metrics.registry)
    log.info("ingest starting", extra={"watchfloor.feeds": len(feeds), "watchfloor.once": once})
    assignment: GroupAssignment | None = None
    try:
        if once:
            outcomes = ingester.run_once()
            failed = sum(o.kind == "error" for o in outcomes)
            log.info(
                "ingest pass done", extra={"watchfloor.polled": len(outcomes), "watchfloor.failed": failed}
            )
            return failed
        assignment = GroupAssignment(
            stack.kafka_bootstrap,
            settings.leases_topic,
            settings.group_id,
            on_revoke=ingester.wait_in_flight,
            on_assign=store.refresh,
        )
        ingester.owns = assignment.owns
        stop = threading.Event()

        def _stop(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: draining in-flight polls", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        ingester.run_forever(stop)
        return 0
    finally:
        if assignment:
            assignment.close()
        if digester:
            digester.close()
        fetcher.close()
        publisher.close()
        store.close()
        log.info("ingest stopped")
