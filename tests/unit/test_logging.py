import json
import logging
import sys
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from connectors.cli import app
from connectors.logging import (
    OURS,
    TEARDOWN_LOGGERS,
    EcsJsonFormatter,
    MainThreadOnly,
    TextFormatter,
    configure_logging,
    quiet_teardown,
)
from schemas.settings import LogFormat, LogLevel, LogSettings


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


# -- level and format: settings, command options ----------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in OURS}
    yield
    root.handlers[:], level, ours = saved
    root.setLevel(level)
    for name, value in ours.items():
        logging.getLogger(name).setLevel(value)


def _formatter() -> logging.Formatter | None:
    (handler,) = logging.getLogger().handlers
    return handler.formatter


@pytest.mark.usefixtures("restore_logging")
def test_json_at_info_by_default_with_libraries_from_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHFLOOR_LOG_LEVEL", raising=False)
    monkeypatch.delenv("WATCHFLOOR_LOG_FORMAT", raising=False)
    configure_logging()
    assert isinstance(_formatter(), EcsJsonFormatter)
    assert logging.getLogger("watchfloor.pipeline").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("connectors.feeds.ingest").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("apache_beam.runners").getEffectiveLevel() == logging.WARNING


@pytest.mark.usefixtures("restore_logging")
def test_the_environment_sets_level_and_format_and_debug_lets_libraries_speak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WATCHFLOOR_LOG_LEVEL", "debug")
    monkeypatch.setenv("WATCHFLOOR_LOG_FORMAT", "text")
    configure_logging()
    assert isinstance(_formatter(), TextFormatter)
    assert logging.getLogger("kafka.conn").getEffectiveLevel() == logging.DEBUG


@pytest.mark.usefixtures("restore_logging")
def test_options_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("WATCHFLOOR_LOG_FORMAT", "text")
    configure_logging(LogLevel.ERROR, LogFormat.json)
    assert isinstance(_formatter(), EcsJsonFormatter)
    assert logging.getLogger("watchfloor.notify").getEffectiveLevel() == logging.ERROR
    assert logging.getLogger("kafka.conn").getEffectiveLevel() == logging.ERROR


def test_an_unknown_level_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="level"):
        LogSettings()


def test_text_keeps_the_fields_on_the_message_line_and_the_trace_below() -> None:
    try:
        raise ValueError("bad input")
    except ValueError:
        record = logging.LogRecord(
            "watchfloor.x", logging.ERROR, __file__, 1, "oops %s", ("f1",), sys.exc_info()
        )
    record.__dict__["feed.id"] = "f1"
    first, *rest = TextFormatter().format(record).splitlines()
    assert first.endswith("ERROR watchfloor.x: oops f1 feed.id=f1")
    assert rest[0] == "Traceback (most recent call last):" and rest[-1] == "ValueError: bad input"


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("command", [["ingest"], ["notify"], ["pipeline", "run"]])
def test_every_service_takes_log_level_and_format(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The option reaches configure_logging: the command then fails on its first real step (no stack)."""
    seen: list[tuple[object, object]] = []
    monkeypatch.setattr("connectors.logging.configure_logging", lambda *a: seen.append(a))
    monkeypatch.setenv("WATCHFLOOR_INGEST_REGISTRY", "/nonexistent")
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_CONFIG", "/nonexistent")
    monkeypatch.setenv("WATCHFLOOR_PIPELINE_RULES_ROOT", "/nonexistent")
    result = CliRunner().invoke(app, [*command, "--log-level", "debug", "--log-format", "text"])
    assert result.exit_code == 1, result.output
    assert seen == [(LogLevel.DEBUG, LogFormat.text)]


def test_main_thread_only_drops_what_other_threads_print() -> None:
    """What stderr becomes while the pipeline cancels: Beam's workers print cut-short bundles' tracebacks."""
    import io
    import threading

    out = io.StringIO()
    stream = MainThreadOnly(out)
    worker = threading.Thread(target=lambda: print("Traceback (most recent call last): …", file=stream))
    worker.start()
    worker.join()
    print("error: the main thread still speaks", file=stream)
    assert out.getvalue() == "error: the main thread still speaks\n"


@pytest.mark.usefixtures("restore_logging")
def test_a_fresh_consumers_coordinator_warnings_are_said_once_at_info(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WATCHFLOOR_LOG_FORMAT", "json")
    configure_logging()
    kafka = logging.getLogger("kafka.coordinator.base")  # what kafka-python logs, as it logs it
    for node in range(20):
        kafka.warning(
            "Marking the coordinator dead (node %s) for group %s: %s.", node, "g", "NotCoordinatorError"
        )
    kafka.warning("Heartbeat session expired, marking coordinator dead")  # other warnings still pass
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(d["log.level"], d["message"].split(" (")[0]) for d in lines] == [
        ("info", "Marking the coordinator dead"),
        ("warning", "Heartbeat session expired, marking coordinator dead"),
    ]


def test_quiet_teardown_silences_the_dofn_runner_too(caplog: pytest.LogCaptureFixture) -> None:
    """Cancelling cuts a keyed step's state read short: Beam's DoFn runner logs that, not only its worker."""
    saved = {name: logging.getLogger(name).level for name in TEARDOWN_LOGGERS}
    try:
        quiet_teardown()
        with caplog.at_level(logging.DEBUG):
            for name in ("apache_beam.runners.common", "apache_beam.runners.worker.sdk_worker"):
                logging.getLogger(name).error("bundle cut short")
            logging.getLogger("apache_beam.io").error("still heard")
        assert [r.name for r in caplog.records] == ["apache_beam.io"]
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
