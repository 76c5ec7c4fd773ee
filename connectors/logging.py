"""Structured logs for process entry points: one ECS-shaped JSON object per line on stderr."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

ECS_VERSION = "8.11.0"
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


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
        doc.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        return json.dumps(doc, default=str)


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        EcsJsonFormatter() if json_logs else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kafka-python narrates every connection and rebalance, httpx every request, at INFO.
    for chatty in ("kafka", "httpx"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
