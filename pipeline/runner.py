"""Pipeline options for the runners Watchfloor supports (docs/adr/0001-streaming-runner.md, 0007).

``prism`` is the local streaming runner: Beam's Go runner, built from the Go module proxy and staged by
``watchfloor stack fetch``, with Python workers in-process (LOOPBACK). ``flink`` submits the same job
to a Beam Flink job server that the caller started (connectors/stack/flink.py), also with LOOPBACK
workers. Dataflow takes the pipeline with its own options, see deploy/README.md. ``extra_args`` come
last, so they override ours.
"""

from __future__ import annotations

from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions

from schemas.settings import StackSettings

RUNNERS = ("prism", "flink", "dataflow")
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
    ]
