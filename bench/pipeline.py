"""Pipeline benchmarks (issue C), side by side in one run:

1. classification core: articles per CPU-second on ~2 KB articles (target ≥ 2,000 per core);
2. sustained throughput: the streaming job (`watchfloor pipeline run`, its own process) on Prism, on
   Flink at parallelism 1 and on Flink at parallelism 2 (embedded MiniCluster, the CLI's LOOPBACK
   workers), side by side with start-up time and job server RSS, vs a plain loop doing the same work
   without Beam (consume → dedup → classify → cluster → decide → bulk index), on the same items
   (targets ≥ 500 items/s on 2 cores, Flink p1 ≥ 0.8x Prism);
3. latency from produce to searchable at a steady 50 items/s on each runner: p50 / p95 (target p95 ≤ 2 s);
4. state bytes per story: serialised size of the job's per-story state (target ≤ 2 KB, issue F's budget).

    .venv/bin/python -m bench.pipeline [--items 10000] [--latency-items 300] [--rate 50]

Sustained means about ten seconds of streaming: with 3,000 items (the default until 2026-12-01) the
job's first seconds weighed so much that identical runs gave 556 to 969 items/s.

Needs `watchfloor stack up`. Topics and indices are per run, so runs do not see each other's data.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import ApiError, Elasticsearch, helpers
from kafka import KafkaConsumer, TopicPartition

from connectors.demo.corpus import Corpus
from connectors.kafka_sink import make_producer
from pipeline import heap
from pipeline.articles import analyse, article_doc
from pipeline.classify.engine import Classifier
from pipeline.job import JobConfig, RestoreShard
from pipeline.state import PipelineState
from schemas.feed import SourceTier
from schemas.item import FeedItem
from schemas.settings import PipelineSettings, StackSettings
from tests.support.pipeline import JobEnv, children_running, feed_item, stop

REPO = Path(__file__).resolve().parents[1]
FLINK = ("--runner", "flink", "--parallelism")
RUNNERS = {"Prism": (), "Flink p1": (*FLINK, "1"), "Flink p2": (*FLINK, "2")}
"""`watchfloor pipeline run` arguments of each runner compared."""
SCENARIO = {"kim-putin-arms-talks", "central-bank-rates", "harbour-storm", "cup-final"}
VOCAB = [
    "council",
    "budget",
    "railway",
    "harbour",
    "museum",
    "league",
    "school",
    "festival",
    "bridge",
    "hospital",
    "election",
    "mayor",
    "court",
    "weather",
    "river",
    "farmers",
    "market",
    "police",
    "station",
    "university",
    "research",
    "energy",
    "grid",
    "port",
    "airline",
    "union",
    "strike",
    "tourism",
    "housing",
    "water",
    "drought",
    "flood",
    "festival",
    "library",
    "orchestra",
    "theatre",
    "minister",
    "parliament",
]


def corpus(n: int, seed: int = 7) -> list[FeedItem]:
    """~2 KB items: mostly distinct local news, one in ten a copy of a demo story by another outlet."""
    rng = random.Random(seed)
    # The acceptance scenario's articles only, so results stay comparable as the demo corpus grows.
    demo = [a for a in Corpus.load().articles if a.story in SCENARIO]
    start = datetime.now(UTC) - timedelta(hours=1)
    items = []
    for i in range(n):
        when = start + timedelta(seconds=i)
        if i % 10 == 0:
            a = demo[(i // 10) % len(demo)]
            text = f"{a.text}\n\nFiled by desk {i}."  # a near-duplicate, never an exact one
            items.append(feed_item(f"copy-{i % 13}", i, a.title, text, when, SourceTier.REGIONAL))
            continue
        words = []
        while sum(len(w) + 1 for w in words) < 2048:
            # Half the words are rarer ones (a two-letter prefix on a vocabulary word): local reports
            # name their own places and people, so stories stay apart as real news does.
            rare = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(2))
            words.append(f"{rare}{rng.choice(VOCAB)}" if rng.random() < 0.5 else rng.choice(VOCAB))
        items.append(
            feed_item(f"local-{i % 17}", i, f"Local report {i}: {' '.join(words[:6])}", " ".join(words), when)
        )
    return items


def classification_core(items: list[FeedItem]) -> float:
    classifier = Classifier.from_dir(REPO / "deploy")
    cpu = time.process_time()
    for item in items:
        classifier.classify(item.title, item.summary, "en")
    return len(items) / (time.process_time() - cpu)


def produce(job: JobEnv, items: list[FeedItem], rate: float | None = None) -> dict[str, float]:
    """Send items (at `rate` per second if given); returns item id -> wall time sent."""
    producer = make_producer(job.settings.kafka_bootstrap)
    sent = {}
    for item in items:
        if rate:
            time.sleep(1 / rate)
        producer.send(job.items_topic, key=item.item_id.encode(), value=item.model_dump_json().encode())
        sent[item.item_id] = time.time()
    producer.flush()
    producer.close()
    return sent


def count(es: Elasticsearch, index: str) -> int:
    try:
        return int(es.count(index=index)["count"])
    except ApiError:
        return 0


def streaming(job: JobEnv, n: int, es: Elasticsearch, log: Path, *args: str) -> tuple[float, float, float]:
    """(seconds from start to first article, items/s from first to last article, peak job server RSS MiB).

    ``args`` go to `watchfloor pipeline run`; the RSS is that of a Flink job server JVM (0 on Prism).
    """
    started = time.monotonic()
    proc = job.start_pipeline(log, *args)
    first = None
    rss_kb = 0
    try:
        while (c := count(es, job.articles_index)) < n:
            if c and first is None:
                first = (time.monotonic(), c)
            if proc.poll() is not None:
                raise SystemExit(f"pipeline exited: see {log}")
            rss_kb = max([rss_kb, *map(_rss_kb, children_running(proc.pid, "job-server.jar"))])
            time.sleep(0.05)
        done = time.monotonic()
    finally:
        stop(proc)
    assert first is not None
    return first[0] - started, (n - first[1]) / (done - first[0]), rss_kb / 1024


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def plain_loop(job: JobEnv, n: int, es: Elasticsearch) -> tuple[float, PipelineState]:
    """The same work without Beam: items/s, and the state it built (for the state-size measurement)."""
    settings = PipelineSettings(
        articles_index=f"{job.articles_index}-plain", alerts_index=f"{job.alerts_index}-plain"
    ).resolved()
    state = RestoreShard(JobConfig(job.settings.kafka_bootstrap, job.settings.es_url, settings))("0")
    classifier = Classifier.from_dir(settings.rules_root)
    heap.settle()  # as the job's core does once a shard's state is built
    consumer = KafkaConsumer(bootstrap_servers=job.settings.kafka_bootstrap, enable_auto_commit=False)
    tps = [TopicPartition(job.items_topic, p) for p in range(3)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    started = time.monotonic()
    seen = 0
    while seen < n:
        actions = []
        for records in consumer.poll(timeout_ms=500, max_records=500).values():
            for rec in records:
                seen += 1
                item = FeedItem.model_validate_json(rec.value)
                if state.deduplicate(item) in {"url", "hash"}:
                    continue
                analysis = analyse(classifier, item)
                placed = state.assign(item, analysis)
                doc = article_doc(
                    item, analysis, placed.story.story_id, syndicated=placed.syndicated, merged=placed.merged
                )
                actions.append(
                    {"_index": settings.articles_index, "_id": doc.article_id, "_source": doc.to_es()}
                )
                for alert in state.decide(placed):
                    actions.append(
                        {
                            "_index": settings.alerts_index,
                            "_id": alert.watchfloor.alert_id,
                            "_source": alert.to_es(),
                        }
                    )
        if actions:
            helpers.bulk(es, actions)
    elapsed = time.monotonic() - started
    consumer.close()
    return n / elapsed, state


def latency(
    job: JobEnv, items: list[FeedItem], rate: float, es: Elasticsearch, log: Path, *args: str
) -> list[float]:
    """Seconds from produce to searchable, per item, at a steady `rate`; `args` go to `pipeline run`."""
    proc = job.start_pipeline(log, *args)
    warm = items[0]
    produce(job, [warm])
    while count(es, job.articles_index) < 1:
        if proc.poll() is not None:
            raise SystemExit(f"pipeline exited: see {log}")
        time.sleep(0.1)
    sent: dict[str, float] = {}
    producer = threading.Thread(target=lambda: sent.update(produce(job, items[1:], rate)))
    producer.start()
    visible: dict[str, float] = {}
    deadline = time.monotonic() + len(items) / rate + 60
    try:
        while len(visible) < len(items) - 1 and time.monotonic() < deadline:
            hits = es.search(
                index=job.articles_index,
                size=200,
                source=False,
                sort=[{"fetched": "desc"}],
                query={"match_all": {}},
            )["hits"]["hits"]
            now = time.time()
            for hit in hits:
                visible.setdefault(hit["_id"], now)
            time.sleep(0.05)
    finally:
        producer.join()
        stop(proc)
    return sorted(visible[i] - sent[i] for i in sent if i in visible)


def state_bytes_per_story(state: PipelineState) -> tuple[float, float]:
    """(signatures + LSH + summary bytes per story, facts + alerts + event centroid bytes per story)."""
    stories = max(1, len(state.stories))
    return state.stories.state_bytes() / stories, (
        state.book.state_bytes() + state.ledger.state_bytes() + state.events.state_bytes()
    ) / stories


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--latency-items", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    settings = StackSettings()
    es = Elasticsearch(settings.es_url, request_timeout=60)
    items = corpus(args.items)
    log = Path(f"/tmp/watchfloor-bench-pipeline-{int(time.time())}.log")

    print(
        f"classification core       {classification_core(items[:1000]):8.0f} articles/CPU-s (target ≥ 2,000)"
    )

    runs: dict[str, tuple[float, float, float]] = {}
    jobs = {}
    for name, runner_args in RUNNERS.items():
        jobs[name] = job = JobEnv(settings)
        job.create_topics()
        produce(job, items)
        runs[name] = streaming(job, len(items), es, log, *runner_args)
    plain_rate, state = plain_loop(jobs["Prism"], len(items), es)
    prism_rate = runs["Prism"][1]
    print("runner          items/s  xPrism  start-up  job server RSS peak")
    for name, (startup, rate, rss) in runs.items():
        print(f"{name:<14} {rate:8.0f}  {rate / prism_rate:6.2f}  {startup:6.1f} s  {rss:6.0f} MiB")
    print("  (targets: Prism ≥ 500 items/s, Flink p1 ≥ 0.8x Prism; start-up = launch to first article)")
    print(f"plain loop     {plain_rate:8.0f}  items/s, ratio Prism/plain {prism_rate / plain_rate:.2f}")
    index_b, facts_b = state_bytes_per_story(state)
    print(f"state per story           {index_b + facts_b:8.0f} B (target ≤ 2,048)")
    print(f"  signatures+LSH+summary  {index_b:8.0f} B; facts+alerts+centroid {facts_b:.0f} B")

    fresh = corpus(args.latency_items, seed=11)
    for name, runner_args in RUNNERS.items():
        job = JobEnv(settings)
        job.create_topics()
        lat = latency(job, fresh, args.rate, es, log, *runner_args)
        if lat:
            p50, p95 = statistics.median(lat), lat[int(0.95 * (len(lat) - 1))]
            print(
                f"latency at {args.rate:.0f} items/s, {name:<8} p50 {p50:.2f}s  p95 {p95:.2f}s "
                f"on {len(lat)} items (target p95 ≤ 2 s)"
            )
    print(f"(pipeline log: {log})")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
