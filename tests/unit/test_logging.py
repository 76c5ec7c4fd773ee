import json
import logging

from connectors.logging import EcsJsonFormatter


def test_ecs_fields_and_extras() -> None:
    record = logging.LogRecord("watchfloor.x", logging.WARNING, __file__, 1, "feed %s failed", ("f1",), None)
    record.__dict__["feed.id"] = "f1"
    doc = json.loads(EcsJsonFormatter().format(record))
    assert doc["message"] == "feed f1 failed"
    assert doc["log.level"] == "warning"
    assert doc["log.logger"] == "watchfloor.x"
    assert doc["feed.id"] == "f1"
    assert doc["@timestamp"].endswith("+00:00")


def test_exception_is_recorded() -> None:
    try:
        raise ValueError("bad input")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "oops", None, sys.exc_info())
    doc = json.loads(EcsJsonFormatter().format(record))
    assert doc["error.type"] == "ValueError"
    assert "bad input" in doc["error.stack_trace"]
