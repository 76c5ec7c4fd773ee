"""The streaming job on Flink: Beam's job server with an embedded MiniCluster, parallelism 1 (parallelism 2,
with workers in processes of their own, is tests/integration/test_flink_equivalence.py's).

The same canonical scenario as on Prism (tests/support/canonical.py) must give the same stories and
alerts. A stop must leave no job server JVM: Beam's Cancel does not end a MiniCluster job, so
`watchfloor pipeline run` ends it by stopping the JVM when it exits.
"""

from __future__ import annotations

import signal
from pathlib import Path

from elasticsearch import Elasticsearch

from connectors.stack.local import LocalStack
from connectors.stack.process import group_alive, is_alive
from tests.support.canonical import check_results, ingest_scenario, wait_until_all_written
from tests.support.pipeline import JobEnv, children_running, stop


def test_canonical_scenario_on_flink_p1_gives_prisms_results_and_leaves_no_jvm(
    stack: LocalStack, tmp_path: Path
) -> None:
    job = JobEnv(stack.settings)
    job.create_topics()
    outlets = ingest_scenario(job, tmp_path)
    es = Elasticsearch(stack.settings.es_url)
    log = tmp_path / "pipeline.log"
    proc = job.start_pipeline(log, "--runner", "flink", "--parallelism", "1")
    try:
        wait_until_all_written(es, job, proc)
        jvms = children_running(proc.pid, "job-server.jar")
        assert len(jvms) == 1, f"expected one job server JVM, found {jvms}"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()[-3000:]
        assert not [pid for pid in jvms if is_alive(pid)], "the job server JVM outlived the pipeline"
        assert not group_alive(proc.pid), "a process of the pipeline's group outlived it"
    finally:
        stop(proc)  # a failed run must not leave its JVM to the next test either
    check_results(es, job, outlets)
