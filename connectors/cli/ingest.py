"""``watchfloor ingest``: the always-on feed ingestion job."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from schemas.settings import IngestSettings, StackSettings


def ingest(
    registry: Path | None = typer.Option(None, "--registry", "-r", help="Registry file or directory."),
    once: bool = typer.Option(False, "--once", help="Poll every due feed once, then exit (cron, tests)."),
    workers: int | None = typer.Option(None, help="Concurrent fetches [default: 8]."),
    metrics_port: int | None = typer.Option(None, help="Serve Prometheus metrics on 127.0.0.1:PORT."),
) -> None:
    """Poll due feeds forever, publishing new items to Kafka; SIGTERM/SIGINT drain in-flight polls."""
    from prometheus_client import start_http_server

    from connectors.feeds.assignment import GroupAssignment
    from connectors.feeds.http import Fetcher, FetchPolicy
    from connectors.feeds.ingest import Ingester
    from connectors.feeds.publish import ItemPublisher
    from connectors.feeds.registry import load_registry, registry_files
    from connectors.feeds.statestore import KafkaStateStore
    from connectors.logging import configure_logging
    from schemas.topics import DEAD_LETTERS, INGEST_LEASES, ITEMS, STATE

    configure_logging()
    settings = IngestSettings()
    stack = StackSettings()
    feeds, errors = load_registry(registry_files(registry or settings.registry))
    log = logging.getLogger("watchfloor.ingest")
    for error in errors:
        log.error("invalid registry entry", extra={"feed.id": error.feed_id, "error.message": str(error)})
    store = KafkaStateStore(stack.kafka_bootstrap, STATE.name)
    publisher = ItemPublisher(stack.kafka_bootstrap, ITEMS.name, DEAD_LETTERS.name)
    policy = FetchPolicy(
        per_host_concurrency=settings.per_host_concurrency, max_body_bytes=settings.max_body_bytes
    )
    fetcher = Fetcher(policy)
    assignment = (
        None
        if once
        else GroupAssignment(stack.kafka_bootstrap, INGEST_LEASES.name, settings.group_id, store.refresh)
    )
    ingester = Ingester(
        feeds,
        fetcher,
        publisher,
        store,
        workers=workers or settings.workers,
        owns=assignment.owns if assignment else (lambda _feed_id: True),
    )
    ingester.metrics.registry_errors.set(len(errors))
    port = metrics_port or settings.metrics_port
    if port:
        start_http_server(port, addr="127.0.0.1", registry=ingester.metrics.registry)
    log.info("ingest starting", extra={"watchfloor.feeds": len(feeds), "watchfloor.once": once})
    try:
        if once:
            outcomes = ingester.run_once()
            failed = sum(o.kind == "error" for o in outcomes)
            log.info(
                "ingest pass done", extra={"watchfloor.polled": len(outcomes), "watchfloor.failed": failed}
            )
        else:
            stop = threading.Event()

            def _stop(signum: int, _frame: FrameType | None) -> None:
                log.info("signal %s: draining", signal.Signals(signum).name)
                stop.set()

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            assert assignment is not None
            ingester.run_forever(stop, before_tick=assignment.poll)
    finally:
        if assignment:
            assignment.close()
        fetcher.close()
        publisher.close()
        store.close()
    log.info("ingest stopped")
