"""Process logs on stderr: one ECS-shaped JSON object per line (the default, for log shippers), or text.

Watchfloor's own loggers speak at the configured level; libraries only from WARNING unless the level is
DEBUG, since Beam narrates every bundle, kafka-python every connection and httpx every request at INFO.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from datetime import UTC, datetime
from typing import TextIO

from schemas.settings import LogFormat, LogLevel, LogSettings

ECS_VERSION = "8.11.0"
OURS = ("watchfloor", "connectors", "pipeline", "schemas")
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")}


class EcsJsonFormatter(logging.Formatter):
    """ECS fields (``@timestamp``, ``log.level``, ``message``…); ``extra=`` keys are kept as given."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "@timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "log.level": record.levelname.lower(),
            "message": record.getMessage(),
            "log.logger": record.name,
            "process.pid": record.process,
            "service.name": "watchfloor",
            "ecs.version": ECS_VERSION,
        }
        if record.exc_info:
            doc["error.type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            doc["error.stack_trace"] = self.formatException(record.exc_info)
        doc.update(_extras(record))
        return json.dumps(doc, default=str)


class TextFormatter(logging.Formatter):
    """``2026-05-04 10:00:00,123 ERROR watchfloor.pipeline: message key=value …``: the same fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = super().format(record)
        if not fields:
            return line
        head, newline, trace = line.partition("\n")  # fields stay on the message's line
        return f"{head} {fields}{newline}{trace}"


class CoordinatorMoves(logging.Filter):
    """kafka-python warns "Marking the coordinator dead … NotCoordinatorError" each time a consumer's
    group coordinator is not (yet) where it asked: about twenty times as a fresh notifier's consumers
    start and the broker loads its group metadata. That is routine and retried: the first of each
    `quiet_s` is said at INFO, the rest are dropped; a coordinator that stays away still shows."""

    def __init__(self, quiet_s: float = 60.0) -> None:
        super().__init__()
        self._quiet_s = quiet_s
        self._said = -quiet_s

    def filter(self, record: logging.LogRecord) -> bool:
        if not (
            record.name.startswith("kafka.coordinator")
            and str(record.msg).startswith("Marking the coordinator dead")
        ):
            return True
        if record.created - self._said < self._quiet_s:
            return False
        self._said = record.created
        record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def configure_logging(level: LogLevel | None = None, fmt: LogFormat | None = None) -> None:
    """Log to stderr at ``level`` in ``fmt``; each one not given comes from WATCHFLOOR_LOG_LEVEL/_FORMAT."""
    settings = LogSettings()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CoordinatorMoves())
    handler.setFormatter(
        EcsJsonFormatter() if (fmt or settings.format) is LogFormat.json else TextFormatter()
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    ours = logging.getLevelName((level or settings.level).value)
    root.setLevel(ours if ours == logging.DEBUG else max(ours, logging.WARNING))
    for name in OURS:
        logging.getLogger(name).setLevel(ours)


TEARDOWN_LOGGERS = ("apache_beam.runners", "apache_beam.runners.worker")
"""Beam's loggers that report bundles cut short once a job is being cancelled: the worker's, and the DoFn
runner's (apache_beam.runners.common: a keyed step's state read whose channel just closed raises
"RuntimeError" in sdk_worker's _blocking_request). Their tracebacks say nothing about the run."""


def quiet_teardown() -> None:
    """Silence what cancelling a job logs from its in-process workers (call just before cancelling)."""
    for name in TEARDOWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


class MainThreadOnly(io.TextIOBase):
    """A stream that passes the main thread's writes only. Beam's in-process workers print the traceback
    of a bundle that failed straight to ``sys.stderr``, beside its log; once the job is being cancelled,
    those are the bundles that cancelling cut short, and they say nothing about the run. Log records
    still pass: the handler writes to the stream it was given, not through ``sys.stderr``."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        if threading.current_thread() is threading.main_thread():
            return self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()
