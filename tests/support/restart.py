"""A stream cut by a crash, then a restart: nothing may be lost or doubled, and stories and revisions
continue (ADR 0003). Shared by the crash tests on Prism and on Flink.

The wire story comes first, filler streams in around the crash, the wire copies only after the restart.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from connectors.demo.corpus import Corpus
from connectors.kafka_sink import make_producer
from schemas.feed import SourceTier
from schemas.item import FeedItem
from tests.support.canonical import CANONICAL, progress
from tests.support.pipeline import JobEnv, feed_item, wait_for


def filler(n: int, published: datetime) -> FeedItem:
    """Local news unlike any other item: one story each, no alert."""
    rng = random.Random(n)
    words = ["harvest", "council", "bridge", "festival", "budget", "railway", "museum", "league", "school"]
    text = " ".join(f"{rng.choice(words)}{rng.randrange(10_000)}" for _ in range(120))
    return feed_item(f"filler-{n % 7}", n, f"Local report {n}: {' '.join(text.split()[:6])}", text, published)


@dataclass
class CrashStream:
    job: JobEnv
    fillers: int = 600
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        canon = [a for a in Corpus.load().articles if a.story == CANONICAL]
        self.wire = feed_item("wire-global", 1, canon[0].title, canon[0].text, self.now, SourceTier.WIRE)
        self.copies = [
            feed_item(a.outlet, 2, a.title, a.text, self.now + timedelta(minutes=1)) for a in canon[1:]
        ]
        self.filler = [filler(n, self.now + timedelta(seconds=n)) for n in range(self.fillers)]
        self.expected = {i.item_id for i in [self.wire, *self.copies, *self.filler]}
        self.alerts_before: set[str] = set()

    def send(self, items: list[FeedItem], per_s: float) -> None:
        producer = make_producer(self.job.settings.kafka_bootstrap)
        topic = self.job.items_topic
        for item in items:
            producer.send(topic, key=item.item_id.encode(), value=item.model_dump_json().encode())
            time.sleep(1 / per_s)
        producer.flush()
        producer.close()

    def crashed(self, es: Elasticsearch) -> None:
        """After the crash: it must have cut the stream, and the alerts written so far must survive."""
        assert len(self.job.docs(es, self.job.articles_index)) < len(self.expected), "a crash mid-stream"
        self.alerts_before = {a["_id"] for a in self.job.docs(es, self.job.alerts_index)}

    def all_written(self, es: Elasticsearch) -> bool:
        job = self.job
        written = len(job.docs(es, job.articles_index)) == len(self.expected)
        return written and job.committed() == job.end_offsets()

    def finish(self, es: Elasticsearch, proc: subprocess.Popen[bytes]) -> None:
        """After the fault: send the wire copies, then wait until every article is written and committed."""
        self.send(self.copies, 1000)
        wait_for(
            lambda: self.all_written(es),
            timeout=240,
            what="every article after the fault",
            proc=proc,
            status=lambda: progress(es, self.job),
        )

    def check(self, es: Elasticsearch) -> None:
        """Every article once, the story continued, no (story, topic, revision) twice, none restarted."""
        job = self.job
        articles = job.docs(es, job.articles_index)
        assert Counter(a["article_id"] for a in articles) == Counter(self.expected)  # none lost, none twice
        story = {a["article_id"]: a["story_id"] for a in articles}
        assert {story[c.item_id] for c in self.copies} == {story[self.wire.item_id]}, (
            "the story continued across the restart"
        )
        alerts = job.docs(es, job.alerts_index)
        assert self.alerts_before <= {a["_id"] for a in alerts}
        keys = Counter((w["story_id"], w["topic"], w["revision"]) for w in (a["watchfloor"] for a in alerts))
        assert all(n == 1 for n in keys.values()), keys
        first_revisions = Counter((s, t) for s, t, r in keys if r == 1)
        assert all(n == 1 for n in first_revisions.values()), "revisions continued, they did not restart at 1"
        assert {"arms_transfer", "leader_visit"} <= {t for s, t, _ in keys if s == story[self.wire.item_id]}
        # The notifier's input: every alert published (resends are allowed, it keys on alert_id).
        published = {m["watchfloor"]["alert_id"] for _, m in job.kafka_messages(job.alerts_topic)}
        assert published == {a["_id"] for a in alerts}
