"""Wire the ingestion job from settings: registry, fetcher, Kafka publisher and state, group leases."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import httpx
from prometheus_client import start_http_server

from connectors.feeds.assignment import GroupAssignment
from connectors.feeds.digest import ProcessDigester, digest
from connectors.feeds.health import HealthAlerter, HealthPolicy
from connectors.feeds.http import Fetcher, FetchPolicy, checked_transport
from connectors.feeds.ingest import Ingester
from connectors.feeds.publish import ItemPublisher
from connectors.feeds.registry import load_registry, registry_files
from connectors.feeds.statestore import KafkaStateStore
from connectors.feeds.websub.callback import CallbackLimits, CallbackServer
from connectors.feeds.websub.endpoint import push_endpoint
from connectors.feeds.websub.subscriber import Subscriber, SubscriberPolicy
from connectors.kafka_sink import make_producer
from connectors.notify.table import CompactedTable
from schemas.opsalert import OpsAlert
from schemas.settings import IngestSettings, StackSettings

log = logging.getLogger("watchfloor.ingest")

WEBSUB_TICK_S = 5.0


def run_ingest(
    settings: IngestSettings, stack: StackSettings, *, registry: Path | None = None, once: bool = False
) -> int:
    """Run until SIGTERM/SIGINT (or one pass with ``once``); returns the number of failed polls."""
    feeds, errors = load_registry(registry_files(registry or settings.registry))
    for error in errors:
        log.error("invalid registry entry", extra={"feed.id": error.feed_id, "error.message": str(error)})
    store = KafkaStateStore(stack.kafka_bootstrap, settings.state_topic)
    publisher = ItemPublisher(stack.kafka_bootstrap, settings.items_topic, settings.dead_letter_topic)
    policy = FetchPolicy(
        per_host_concurrency=settings.per_host_concurrency,
        max_body_bytes=settings.max_body_bytes,
        allow_networks=settings.allow_networks,
    )
    fetcher = Fetcher(policy)
    digester = ProcessDigester(settings.parse_processes) if settings.parse_processes else None
    websub = None if once else _subscriber(settings, stack, policy)
    ingester = Ingester(
        feeds, fetcher, publisher, store, workers=settings.workers, digester=digester or digest, websub=websub
    )
    ingester.metrics.registry_errors.set(len(errors))
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr="127.0.0.1", registry=ingester.metrics.registry)
    log.info("ingest starting", extra={"watchfloor.feeds": len(feeds), "watchfloor.once": once})
    assignment: GroupAssignment | None = None
    callback: CallbackServer | None = None
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
        callback = _background(settings, stack, stop, ingester=ingester, store=store, assignment=assignment)

        def _stop(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: draining in-flight polls", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        ingester.run_forever(stop)
        return 0
    finally:
        if callback:
            callback.close()
        if assignment:
            assignment.close()
        if digester:
            digester.close()
        fetcher.close()
        publisher.close()
        store.close()
        log.info("ingest stopped")


def _background(
    settings: IngestSettings,
    stack: StackSettings,
    stop: threading.Event,
    *,
    ingester: Ingester,
    store: KafkaStateStore,
    assignment: GroupAssignment,
) -> CallbackServer | None:
    """Start what runs beside the polls until ``stop``: the WebSub callback server and renewals, and
    the feed health checks. Returns the callback server, to close."""
    callback = None
    owns = assignment.owns
    websub = ingester.websub
    if websub is not None:
        websub.owns = owns
        websub.settled = assignment.settled
        callback = _callback(settings, websub, ingester)
        _every(stop, WEBSUB_TICK_S, "websub-renewals", lambda: websub.tick(ingester.feeds))
    health = _health(settings, stack, owns)

    def check_health() -> None:
        store.refresh()  # other processes' feeds too, for the tiers this one checks
        health.check(ingester.feeds, store.all())

    _every(stop, settings.health_check_s, "feed-health", check_health)
    return callback


def _subscriber(settings: IngestSettings, stack: StackSettings, policy: FetchPolicy) -> Subscriber | None:
    """WebSub, when both the listen address and the public URL are set; hubs are reached through the
    same egress guard as feeds (a hub URL comes from the feed, so it is untrusted)."""
    if not (settings.websub_listen and settings.websub_public_url):
        return None
    client = httpx.Client(
        transport=checked_transport(policy),
        headers={"User-Agent": policy.user_agent},
        follow_redirects=False,
    )
    return Subscriber(
        CompactedTable(stack.kafka_bootstrap, settings.state_topic, "websub:"),
        SubscriberPolicy(
            callback_base=str(settings.websub_public_url),
            lease_s=settings.websub_lease_s,
            poll_interval_s=settings.websub_poll_interval_s,
            verify_timeout_s=settings.websub_verify_timeout_s,
        ),
        client,
    )


def _callback(settings: IngestSettings, websub: Subscriber, ingester: Ingester) -> CallbackServer:
    host, _, port = (settings.websub_listen or "").rpartition(":")
    server = CallbackServer(
        (host.strip("[]"), int(port)),
        websub.verify,
        push_endpoint(websub, ingester),
        CallbackLimits(max_body_bytes=settings.websub_max_body_bytes),
    )
    server.start()
    return server


def _health(settings: IngestSettings, stack: StackSettings, owns: Callable[[str], bool]) -> HealthAlerter:
    producer = make_producer(stack.kafka_bootstrap, linger_ms=0)

    def emit(alert: OpsAlert) -> None:
        value = alert.model_dump_json().encode()
        producer.send(settings.ops_topic, key=alert.ops_id.encode(), value=value).get(timeout=60)

    policy = HealthPolicy(
        silent_factor=settings.health_silent_factor,
        silent_floor_s=settings.health_silent_floor_s,
        failing_after=settings.health_failing_after,
    )
    table = CompactedTable(stack.kafka_bootstrap, settings.state_topic, "ingest:ops:")
    return HealthAlerter(table, emit, policy, owns=owns)


def _every(stop: threading.Event, seconds: float, name: str, task: Callable[[], object]) -> None:
    """Run ``task`` every ``seconds`` in a daemon thread until ``stop``; a failure is logged, not fatal."""

    def loop() -> None:
        while not stop.wait(seconds):
            try:
                task()
            except Exception:
                log.exception("periodic task failed", extra={"task": name})

    threading.Thread(target=loop, name=name, daemon=True).start()
