"""Integration tests run against the real local stack, which they start themselves when it is not up.

A stack that was already running (``watchfloor stack up``) is reused and left running; one started
here is stopped at the end of the session.
"""

from collections.abc import Iterator

import pytest

from connectors.stack.local import LocalStack
from schemas.settings import StackSettings
from tests.support.pipeline import drop_session_jobs


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    stack = LocalStack(StackSettings())
    already_up = stack.is_healthy()
    stack.up()
    yield stack
    drop_session_jobs(stack.settings)
    if not already_up:
        stack.down()
