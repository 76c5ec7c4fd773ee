"""Ingestion throughput: the full connector vs feedparser alone on the same bytes, in one run.

1,000 local feeds x 30 items are served by a separate server process. Measured side by side:
  1. feedparser-only parsing of the 1,000 bodies (the floor any feed connector pays),
  2. the full connector: HTTP fetch -> parse -> normalise -> publish to Kafka (acks=all) -> save state,
  3. the 304 path: every feed polled again with its validators (fetch + state save),
and the peak RSS of this process. The parse workers are started (language model loaded) before the
timed passes, as they are once in a long-running ingester. CPU seconds per feed are printed for each
side, so a ratio can be read as "where the time went". Needs `watchfloor stack up`.

    .venv/bin/python -m bench.ingest [--feeds 1000] [--items 30] [--workers 8]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
from kafka.admin import KafkaAdminClient

from connectors.demo.server import answer_feed
from connectors.feeds.digest import ProcessDigester, digest
from connectors.feeds.http import Fetcher
from connectors.feeds.ingest import Ingester
from connectors.feeds.publish import ItemPublisher
from connectors.feeds.statestore import KafkaStateStore
from connectors.stack.kafka import KafkaService
from connectors.stack.process import proc_stat
from schemas.feed import FeedConfig
from schemas.settings import StackSettings
from schemas.topics import DEAD_LETTERS, ITEMS, STATE
from tests.support.feeds import rss
from tests.support.feedserver import LOOPBACK


def _serve(bodies: dict[str, bytes], port_queue: multiprocessing.Queue[int]) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            answer_feed(self, bodies[self.path], f'"{self.path}"')

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds used so far by the processes ``pids``."""
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f[11]) + int(f[12]) for f in map(proc_stat, pids) if f) / ticks


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--processes", type=int, default=2, help="parse/normalise worker processes; 0 = in-thread"
    )
    args = parser.parse_args()
    run = uuid.uuid4().hex[:6]
    ids = [f"b{run}-{n:04d}" for n in range(args.feeds)]
    bodies = {f"/{i}": rss(i, args.items) for i in ids}
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(bodies, ports), daemon=True)
    server.start()
    port = ports.get(timeout=10)
    total_items = args.feeds * args.items

    started = time.perf_counter()
    parse_cpu = time.process_time()
    parsed_entries = 0
    for body in bodies.values():
        result = feedparser.parse(io.BytesIO(body), response_headers={"content-type": "application/rss+xml"})
        parsed_entries += len(result.entries)
    parse_s = time.perf_counter() - started
    parse_cpu = time.process_time() - parse_cpu
    assert parsed_entries == total_items

    stack = StackSettings()
    feeds = [FeedConfig(id=i, url=f"http://127.0.0.1:{port}/{i}", name=i, max_interval_s=600) for i in ids]
    # Topics of this run only: the shared ones stay clean, and the state store (which reads its whole
    # topic at start) holds this run's feeds only, so peak RSS is comparable between runs.
    topics = [replace(spec, name=f"bench-{run}-{spec.name}") for spec in (ITEMS, DEAD_LETTERS, STATE)]
    KafkaService(stack).ensure_topics(tuple(topics))
    items_topic, dead_topic, state_topic = (t.name for t in topics)
    store = KafkaStateStore(stack.kafka_bootstrap, state_topic)
    publisher = ItemPublisher(stack.kafka_bootstrap, items_topic, dead_topic)
    fetcher = Fetcher(replace(LOOPBACK, per_host_concurrency=args.workers))
    now = datetime.now(UTC)
    clock = [now]
    digester = ProcessDigester(args.processes) if args.processes else digest
    ingester = Ingester(
        feeds, fetcher, publisher, store, workers=args.workers, clock=lambda: clock[0], digester=digester
    )

    workers = digester.pids if isinstance(digester, ProcessDigester) else []
    started = time.perf_counter()
    own_cpu, workers_cpu = time.process_time(), cpu_s(workers)
    outcomes = ingester.run_once()
    full_s = time.perf_counter() - started
    own_cpu, workers_cpu = time.process_time() - own_cpu, cpu_s(workers) - workers_cpu
    published = sum(o.new_items for o in outcomes)
    assert published == total_items, (published, [o for o in outcomes if o.kind != "ok"][:3])

    clock[0] = now + timedelta(days=1)  # everything due again
    started = time.perf_counter()
    again = ingester.run_once()
    not_modified_s = time.perf_counter() - started
    assert all(o.kind == "not_modified" for o in again), {o.kind for o in again}

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = [peak_rss_mb(pid) for pid in workers]
    fetcher.close()
    if isinstance(digester, ProcessDigester):
        digester.close()
    publisher.close()
    store.close()
    server.terminate()
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    admin.delete_topics([t.name for t in topics])
    admin.close()

    fp_rate = total_items / parse_s
    full_rate = total_items / full_s
    print(f"feeds x items: {args.feeds} x {args.items}, workers {args.workers}, processes {args.processes}")
    nm_rate = args.feeds / not_modified_s
    print(f"feedparser only:  {fp_rate:8.0f} items/s ({parse_s:.1f}s)")
    ratio = full_rate / fp_rate
    print(f"full connector:   {full_rate:8.0f} items/s ({full_s:.1f}s), ratio {ratio:.2f} (target 0.8)")
    print(
        f"CPU ms per feed:  feedparser only {1e3 * parse_cpu / args.feeds:.2f}; full connector: ingest "
        f"process {1e3 * own_cpu / args.feeds:.2f} + parse workers {1e3 * workers_cpu / args.feeds:.2f}"
    )
    print(f"304 path:         {nm_rate:8.0f} feeds/s ({not_modified_s:.1f}s) (target 1000)")
    each = ", ".join(f"{mb:.0f}" for mb in worker_mb) or "none"
    print(f"peak RSS:         {peak_mb:8.0f} MB (this process); parse workers {each} MB")


if __name__ == "__main__":
    main()
