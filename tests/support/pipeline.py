"""Run the streaming job as its own process against the real stack, on topics and indices of one test."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, Elasticsearch
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.feeds.normalize import content_hash, make_item_id
from connectors.stack.process import is_alive, proc_stat
from schemas.feed import SourceTier
from schemas.item import FeedItem, ItemSource
from schemas.settings import StackSettings
from tests.support.feedserver import LOOPBACK_ENV

REPO = Path(__file__).resolve().parents[2]
WATCHFLOOR = [sys.executable, "-m", "connectors"]
_SESSION_JOBS: list[JobEnv] = []
"""Every JobEnv of this test session: the session drops their data at its end (`drop_session_jobs`)."""


def drop_session_jobs(settings: StackSettings) -> None:
    """Delete the indices and topics of this session's jobs, and only those: a dev stack shared with
    other sessions keeps theirs, and does not gather two indices per test until the node runs out of
    shards (set WATCHFLOOR_KEEP_TEST_DATA=1 to keep them for a post-mortem)."""
    if os.environ.get("WATCHFLOOR_KEEP_TEST_DATA") == "1" or not _SESSION_JOBS:
        return
    es = Elasticsearch(settings.es_url)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        for job in _SESSION_JOBS:
            job.drop(es, admin)
        _SESSION_JOBS.clear()
    finally:
        admin.close()
        es.close()


@dataclass
class JobEnv:
    """Per-test names, so tests neither see each other's data nor depend on the order they run in."""

    settings: StackSettings
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    partitions: int = 3
    source: str | None = None
    """Another JobEnv's run whose items topic this one reads (runs compared on the same input)."""

    def reading_same_items(self) -> JobEnv:
        """A job of its own (outputs, consumer group) on this job's items topic."""
        return JobEnv(self.settings, partitions=self.partitions, source=self.source or self.run)

    def __post_init__(self) -> None:
        _SESSION_JOBS.append(self)

    @property
    def items_topic(self) -> str:
        return f"wf-items-{self.source or self.run}"

    @property
    def alerts_topic(self) -> str:
        return f"wf-alerts-{self.run}"

    @property
    def articles_index(self) -> str:
        return f"watchfloor-articles-t{self.run}"

    @property
    def alerts_index(self) -> str:
        return f"watchfloor-alerts-t{self.run}"

    @property
    def group(self) -> str:
        return f"wf-pipeline-{self.run}"

    def create_topics(self) -> None:
        admin = KafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
        try:
            topics = [NewTopic(self.alerts_topic, 3, 1)]
            if self.source is None:
                topics.append(NewTopic(self.items_topic, self.partitions, 1))
            admin.create_topics(topics)
        finally:
            admin.close()

    def drop(self, es: Elasticsearch, admin: KafkaAdminClient) -> None:
        """Delete what this job wrote: its indices (and any suffixed copies) and its own topics."""
        pattern = f"{self.articles_index}*,{self.alerts_index}*"
        names = list(es.indices.get(index=pattern, ignore_unavailable=True, allow_no_indices=True))
        if names:  # by name: the node refuses to delete by wildcard
            es.indices.delete(index=",".join(names))
        own = {self.alerts_topic} | ({self.items_topic} if self.source is None else set())
        if existing := sorted(own & set(admin.list_topics())):
            admin.delete_topics(existing)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "WATCHFLOOR_PIPELINE_ITEMS_TOPIC": self.items_topic,
            "WATCHFLOOR_PIPELINE_ALERTS_TOPIC": self.alerts_topic,
            "WATCHFLOOR_PIPELINE_ARTICLES_INDEX": self.articles_index,
            "WATCHFLOOR_PIPELINE_ALERTS_INDEX": self.alerts_index,
            "WATCHFLOOR_PIPELINE_GROUP_ID": self.group,
            "WATCHFLOOR_INGEST_ITEMS_TOPIC": self.items_topic,
            "WATCHFLOOR_INGEST_GROUP_ID": f"wf-ingest-{self.run}",
            **LOOPBACK_ENV,  # the feeds it ingests are on a local FeedServer
        }

    def start_pipeline(
        self, log: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """`watchfloor pipeline run [args]` in its own process group (the runner and workers included),
        with `env` added to the test's environment."""
        return subprocess.Popen(
            [*WATCHFLOOR, "pipeline", "run", *args],
            cwd=REPO,
            env={**self.env(), **(env or {})},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def ingest_once(self, registry: Path, timeout: float = 180) -> None:
        """`watchfloor ingest --once` of `registry` onto this test's items topic; fails the test on error."""
        ingest = subprocess.run(
            [*WATCHFLOOR, "ingest", "--registry", str(registry), "--once"],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        assert ingest.returncode == 0, ingest.stderr.decode()[-2000:]

    def docs(self, es: Elasticsearch, index: str) -> list[dict[str, Any]]:
        try:
            es.indices.refresh(index=index)
            hits = es.search(index=index, size=10_000, query={"match_all": {}})["hits"]["hits"]
        except ApiError:  # not created yet
            return []
        return [{"_id": h["_id"], **h["_source"]} for h in hits]

    def kafka_messages(self, topic: str) -> list[tuple[bytes | None, dict[str, Any]]]:
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            enable_auto_commit=False,
            consumer_timeout_ms=2000,
        )
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        out = [(r.key, json.loads(r.value)) for r in consumer]
        consumer.close()
        return out

    def committed(self) -> dict[int, int]:
        """The group's committed offsets; a partition that never had a record counts as committed at 0."""
        consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, group_id=self.group)
        try:
            tps = [TopicPartition(self.items_topic, p) for p in range(self.partitions)]
            return {tp.partition: consumer.committed(tp) or 0 for tp in tps}
        finally:
            consumer.close()

    def end_offsets(self) -> dict[int, int]:
        consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap)
        try:
            ends = consumer.end_offsets([TopicPartition(self.items_topic, p) for p in range(self.partitions)])
            return {tp.partition: offset for tp, offset in ends.items()}
        finally:
            consumer.close()


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 60) -> int:
    """SIGTERM the job (it cancels itself) or SIGKILL its whole process group; returns the exit code."""
    with contextlib.suppress(ProcessLookupError):
        if sig == signal.SIGKILL:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    code = proc.wait(timeout)
    with contextlib.suppress(ProcessLookupError):  # whatever outlived the leader (Prism) goes too
        os.killpg(proc.pid, signal.SIGKILL)
    return code


def children_running(pid: int, marker: str) -> list[int]:
    """Live children of `pid` whose command line contains `marker` (the job server JVM it started, say)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        child = int(stat.parent.name)
        fields = proc_stat(child)
        if fields is None or int(fields[1]) != pid or not is_alive(child):
            continue
        with contextlib.suppress(OSError):
            if marker.encode() in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes],
    status: Callable[[], str] = lambda: "",
) -> None:
    """Poll `condition`; on failure say what was awaited and, from `status`, where things stood."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(
                f"pipeline exited with {proc.returncode} while waiting for {what}; {status()}"
            )
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; {status()}")


def feed_item(
    feed_id: str, n: int, title: str, text: str, published: datetime, tier: SourceTier = SourceTier.NATIONAL
) -> FeedItem:
    """An item as the ingester would publish it (ids and hash from the ingester's own functions)."""
    link = f"https://{feed_id}.example/news/{n}"
    item_id, basis = make_item_id(feed_id, guid=None, link=link, title=title, published=published)
    return FeedItem(
        item_id=item_id,
        id_basis=basis,
        feed_id=feed_id,
        url=link,
        title=title,
        summary=text,
        language="en",
        published=published,
        fetched=published,
        source=ItemSource(feed_id=feed_id, name=feed_id, tier=tier, domain=f"{feed_id}.example"),
        content_hash=content_hash(title, text),
    )
