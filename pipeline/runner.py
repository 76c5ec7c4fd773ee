"""Pipeline options for the runners Watchfloor supports (docs/adr/0001-streaming-runner.md).

``prism`` is the local streaming runner: Beam's Go runner, built from the Go module proxy and staged by
``watchfloor stack up``, with Python workers in-process (LOOPBACK). Flink and Dataflow take the same
pipeline with their own options (``extra_args``), see deploy/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions

from schemas.settings import StackSettings

RUNNERS = ("prism", "flink", "dataflow")


def streaming_options(
    settings: StackSettings, runner: str = "prism", extra_args: Sequence[str] = ()
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
        args += ["--runner=FlinkRunner"]
    else:
        args += ["--runner=DataflowRunner"]
    return PipelineOptions([*args, *extra_args])
