"""Pipeline options for the runners Watchfloor supports (docs/adr/0001-streaming-runner.md).

``prism`` is the local streaming runner: Beam's Go runner, built from the Go module proxy and staged by
``watchfloor stack up``, with Python workers in-process (LOOPBACK). Flink and Dataflow take the same
pipeline with their own options (``extra_args``), see deploy/README.md.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.runner import PipelineResult

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
