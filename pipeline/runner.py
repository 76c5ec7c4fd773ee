"""Pipeline options for the runners Watchfloor supports (docs/adr/0001-streaming-runner.md, 0007).

``prism`` is the local streaming runner: Beam's Go runner, built from the Go module proxy and staged by
``watchfloor stack fetch``, with Python workers in-process (LOOPBACK). ``flink`` submits the same job
to a Beam Flink job server that the caller started (connectors/stack/flink.py), also with LOOPBACK
workers. Dataflow takes the pipeline with its own options, see deploy/README.md. ``extra_args`` come
last, so they override ours.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.runner import PipelineResult

from schemas.settings import StackSettings

RUNNERS = ("prism", "flink", "dataflow")
MAX_BUNDLE_TIME_MS = 200
"""How long a Flink bundle may collect elements (Beam's default 1,000 ms): each fused stage of the job
waits up to this long before its output moves on, and the job has three (read to shard, keyed core and
writes, offset commit), so the default alone gives seconds of latency."""
CHECKPOINT_INTERVAL_MS = 10_000
"""Flink checkpoints hold the Kafka source's positions; the job's own state lives outside Beam (ADR 0003)."""


def streaming_options(
    settings: StackSettings,
    runner: str = "prism",
    extra_args: Sequence[str] = (),
    flink_endpoint: str | None = None,
    parallelism: int = 1,
) -> PipelineOptions:
    if runner not in RUNNERS:
        raise ValueError(f"unknown runner {runner!r}; one of {RUNNERS}")
    args = ["--streaming"]
    if runner == "prism":
        prism = settings.resolved().prism_binary
        if not prism.exists():
            raise FileNotFoundError(f"Prism runner not staged at {prism}; run `watchfloor stack fetch`")
        args += ["--runner=PrismRunner", f"--prism_location={prism}", "--environment_type=LOOPBACK"]
    elif runner == "flink":
        if flink_endpoint is None:
            raise ValueError("the flink runner needs a job server endpoint")
        args += flink_args(flink_endpoint, parallelism)
    else:
        args += ["--runner=DataflowRunner"]
    return PipelineOptions([*args, *extra_args])


class JobWatch:
    """Follows a running job to its end in a thread, keeping the runner's reason if it fails.

    ``wait_until_finish`` is what reads the runner's job messages (a bundle's traceback arrives there):
    a job polled only for its state fails with no cause anywhere.
    """

    def __init__(self, result: PipelineResult) -> None:
        self.ended = threading.Event()
        self.error: str | None = None
        """The runner's account of the failure (often a worker's traceback), once the job has ended."""
        self._result = result
        threading.Thread(target=self._wait, name="watchfloor-job-watch", daemon=True).start()

    @property
    def reason(self) -> str:
        """The error's last line: for a traceback, the exception that ended the job."""
        lines = [line for line in (self.error or "").splitlines() if line.strip()]
        return lines[-1].strip() if lines else "the runner reported no error"

    def _wait(self) -> None:
        try:
            self._result.wait_until_finish()
        except Exception as exc:  # the runner's last error message, or why the job could not be followed
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.ended.set()


def flink_args(endpoint: str, parallelism: int) -> list[str]:
    """A streaming job with checkpoints on a Flink job server, Python workers in this process.

    Without ``--finish_bundle_before_checkpointing`` a checkpointing job emits nothing past its first
    stage. Beam warns "Unparseable argument" for both checkpoint options: they are the job server's,
    passed through unchanged, and take effect.
    """
    if parallelism < 1:
        raise ValueError(f"parallelism must be at least 1, got {parallelism}")
    return [
        "--runner=PortableRunner",
        f"--job_endpoint={endpoint}",
        "--environment_type=LOOPBACK",
        f"--parallelism={parallelism}",
        f"--checkpointing_interval={CHECKPOINT_INTERVAL_MS}",
        "--finish_bundle_before_checkpointing",
        f"--max_bundle_time_mills={MAX_BUNDLE_TIME_MS}",
    ]
