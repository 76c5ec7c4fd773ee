"""The same input gives the same articles, stories and alerts on Prism and on Flink (issue H.4), up to
what arrival order decides (tests/support/outcome.py says which is which).

The demo corpus goes through the ingester once, onto a 12-partition items topic, with syndicated
copies of every article from other outlets (other item ids, so other partitions): the copies that
make one story only if the job sees them together. Prism runs the job once as the baseline, then Flink
at each parallelism on the same topic, each with its own consumer group, indices and alerts topic.

On Flink the Python workers are separate processes, one per TaskManager slot
(``--sdk_worker_parallelism`` = parallelism, from an EXTERNAL worker pool), as on a cluster: with the
default LOOPBACK all workers are threads of the ``pipeline run`` process and share its state, which
would hide what parallelism does to it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from connectors.demo.corpus import Corpus
from connectors.kafka_sink import make_producer
from connectors.stack.local import LocalStack
from connectors.stack.process import free_port
from tests.support.canonical import ingest_scenario, is_canonical, progress
from tests.support.outcome import Outcome, agreement, differences, order_effects
from tests.support.pipeline import REPO, JobEnv, feed_item, stop, wait_for

PARTITIONS = 12
"""Enough that a Reshuffle of the partitions leaves each of two workers some (all on one: p = 2^-11)."""
SYNDICATORS = 3


def _syndicate(job: JobEnv) -> int:
    """Every demo article again from `SYNDICATORS` other outlets, a line of their own added; returns count."""
    producer = make_producer(job.settings.kafka_bootstrap)
    start = datetime.now(UTC) - timedelta(minutes=9)
    sent = 0
    for n, article in enumerate(Corpus.load().articles):
        for s in range(SYNDICATORS):
            text = f"{article.text}\n\nDistributed by syndicate partner {s}."
            item = feed_item(f"partner-{s}-t{job.run}", n, article.title, text, start + article.at)
            producer.send(job.items_topic, key=item.item_id.encode(), value=item.model_dump_json().encode())
            sent += 1
    producer.flush()
    producer.close()
    return sent


def _run_to_the_end(job: JobEnv, es: Elasticsearch, log: Path, *args: str) -> Outcome:
    """Run the job until every offset is committed (the job commits only after its writes), then stop."""
    proc = job.start_pipeline(log, *args)
    try:
        wait_for(
            lambda: job.committed() == job.end_offsets(),
            timeout=240,
            what="every item processed and committed",
            proc=proc,
            status=lambda: progress(es, job),
        )
    finally:
        assert stop(proc) == 0, log.read_text()[-3000:]
    return Outcome.of(es, job)


@pytest.fixture(scope="module")
def source(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> JobEnv:
    job = JobEnv(stack.settings, partitions=PARTITIONS)
    job.create_topics()
    ingest_scenario(job, tmp_path_factory.mktemp("ingest"), {a.story for a in Corpus.load().articles})
    _syndicate(job)
    return job


@pytest.fixture(scope="module")
def baseline(source: JobEnv, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    job = source.reading_same_items()
    job.create_topics()
    es = Elasticsearch(job.settings.es_url)
    outcome = _run_to_the_end(job, es, tmp_path_factory.mktemp("prism") / "pipeline.log")
    canonical = [s for s in outcome.stories if len(s) > 1]
    # The comparison means something only if the baseline joined copies and raised alerts.
    assert canonical and outcome.alerts, outcome
    canon_ids = {a["content_hash"] for a in job.docs(es, job.articles_index) if is_canonical(a)}
    assert any(canon_ids <= s for s in outcome.stories), "the canonical story is one story on Prism"
    return outcome


class WorkerPool:
    """Beam's EXTERNAL worker pool: each worker the runner asks for is a Python process of its own."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        # The pool starts workers as `python -c …`: this interpreter must be the first `python` on PATH.
        path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apache_beam.runners.worker.worker_pool_main",
                f"--service_port={self.port}",
            ],
            cwd=REPO,
            env={**env, "PATH": path},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def beam_args(self, parallelism: int) -> list[str]:
        return [
            "--beam-arg=--environment_type=EXTERNAL",
            f"--beam-arg=--environment_config=127.0.0.1:{self.port}",
            f"--beam-arg=--sdk_worker_parallelism={parallelism}",
        ]

    def close(self) -> None:
        """The pool and every worker it started (they share its process group)."""
        os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()


@pytest.mark.parametrize("parallelism", [1, 2])
def test_flink_gives_prisms_articles_stories_and_alerts(
    source: JobEnv, baseline: Outcome, parallelism: int, tmp_path: Path
) -> None:
    job = source.reading_same_items()
    job.create_topics()
    es = Elasticsearch(job.settings.es_url)
    pool = WorkerPool(job.env())
    try:
        args = ["--runner", "flink", "--parallelism", str(parallelism), *pool.beam_args(parallelism)]
        on_flink = _run_to_the_end(job, es, tmp_path / "pipeline.log", *args)
    finally:
        pool.close()
    label = f"Flink p{parallelism}"
    effects = order_effects(baseline, on_flink, label)
    print(f"{label}: agreement with Prism {agreement(baseline, on_flink):.3f}", *effects, sep="\n  ")
    diff = differences(baseline, on_flink, label)
    assert not diff, "\n".join([*diff, "where arrival order decided:", *effects])
