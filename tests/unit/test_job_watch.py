"""JobWatch: a job's end is noticed, with the runner's reason, without polling its state."""

from __future__ import annotations

from typing import Any

from pipeline.runner import JobWatch

LAST = "BadRequestError(400, 'index_closed_exception', 'closed')"
TRACEBACK = (
    "Pipeline job-001 failed in state FAILED: bundle inst003 stage-006 failed:"
    "Traceback (most recent call last):\n"
    '  File "pipeline/job.py", line 72, in __call__\n'
    "    articles, alerts = state.restore(\n"
    f"RuntimeError: elasticsearch.BadRequestError: {LAST}\n"
)


class FakeResult:
    """A PipelineResult whose wait ends the way a runner's does: returning, or raising its error."""

    def __init__(self, error: Exception | None) -> None:
        self._error = error

    def wait_until_finish(self, duration: Any = None) -> str:
        if self._error:
            raise self._error
        return "DONE"


def test_a_failed_job_ends_the_watch_with_the_runners_traceback_and_its_last_line() -> None:
    watch = JobWatch(FakeResult(RuntimeError(TRACEBACK)))  # type: ignore[arg-type]
    assert watch.ended.wait(10)
    assert watch.error is not None and "Traceback" in watch.error
    assert watch.reason == f"RuntimeError: elasticsearch.BadRequestError: {LAST}"


def test_a_job_that_ends_without_an_error_says_so() -> None:
    watch = JobWatch(FakeResult(None))  # type: ignore[arg-type]
    assert watch.ended.wait(10)
    assert watch.error is None
    assert watch.reason == "the runner reported no error"
