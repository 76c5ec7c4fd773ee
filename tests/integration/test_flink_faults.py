"""Faults on Flink (issue H.4): a worker that fails, and a job server JVM that is SIGKILLed mid-stream.

Either way nothing is lost or doubled (articles by id, alerts by story, topic and revision, every alert
published), the story opened before the fault goes on after it, and revisions do not restart at 1
(tests/support/restart.py, the same checks as the SIGKILL test on Prism). Parallelism 1, LOOPBACK
workers: the set-up `watchfloor pipeline run --runner flink` runs by default.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from elasticsearch import Elasticsearch

from connectors.stack.local import LocalStack
from connectors.testfault import ENV, InjectedFault
from tests.support.canonical import progress
from tests.support.pipeline import JobEnv, children_running, stop, wait_for
from tests.support.restart import CrashStream

FLINK_P1 = ("--runner", "flink", "--parallelism", "1")


def test_a_worker_failing_after_a_write_is_restored_from_the_checkpoint_without_loss_or_doubles(
    stack: LocalStack, tmp_path: Path
) -> None:
    """The Elasticsearch sink raises once after a bulk write, before its receipts: Flink restarts the
    task from its last checkpoint by itself, and the replayed items are written again under their ids."""
    job = JobEnv(stack.settings)
    job.create_topics()
    stream = CrashStream(job, fillers=300)
    stream.send([stream.wire], 1000)
    es = Elasticsearch(stack.settings.es_url)
    log = tmp_path / "pipeline.log"
    proc = job.start_pipeline(log, *FLINK_P1, env={ENV: "es-written:100"})
    streaming = threading.Thread(target=stream.send, args=(stream.filler, 60.0))
    streaming.start()
    try:
        wait_for(
            lambda: InjectedFault.__name__ in log.read_text(errors="replace"),
            timeout=180,
            what="the injected fault",
            proc=proc,
            status=lambda: progress(es, job),
        )
        streaming.join()
        stream.crashed(es)
        stream.finish(es, proc)  # in the same job: Flink restored the task by itself
    finally:
        streaming.join()
        assert stop(proc) == 0, log.read_text()[-3000:]
    stream.check(es)


def test_a_sigkilled_job_server_then_a_restarted_job_loses_nothing_and_doubles_nothing(
    stack: LocalStack, tmp_path: Path
) -> None:
    """The JVM dies with its MiniCluster and checkpoints; `pipeline run` exits 1 (a supervisor restarts
    it) and the new job resumes from the offsets committed after writes, its state rebuilt from ES."""
    job = JobEnv(stack.settings)
    job.create_topics()
    stream = CrashStream(job)
    stream.send([stream.wire], 1000)
    es = Elasticsearch(stack.settings.es_url)
    log = tmp_path / "pipeline.log"
    first = job.start_pipeline(log, *FLINK_P1)
    streaming = threading.Thread(target=stream.send, args=(stream.filler, 60.0))
    streaming.start()
    try:
        wait_for(lambda: len(job.docs(es, job.articles_index)) >= 60, 180, "the first articles", first)
        (jvm,) = children_running(first.pid, "job-server.jar")
        os.kill(jvm, signal.SIGKILL)
        assert first.wait(60) == 1, log.read_text()[-3000:]  # stopped by itself: the runner is gone
    finally:
        stop(first, signal.SIGKILL)
        streaming.join()
    stream.crashed(es)
    second = job.start_pipeline(log, *FLINK_P1)
    try:
        stream.finish(es, second)
    finally:
        assert stop(second) == 0, log.read_text()[-3000:]
    stream.check(es)
