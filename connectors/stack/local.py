"""The local stack as one object: stage, start, health-check, stop, and read logs of its services."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from connectors.es_templates import install_templates
from connectors.stack.artifacts import stage_all
from connectors.stack.elasticsearch import ElasticsearchService
from connectors.stack.kafka import KafkaService
from connectors.stack.process import ManagedProcess, StackError, tail_file
from schemas.settings import (
    IngestSettings,
    NotifySettings,
    PipelineSettings,
    StackSettings,
    configured_topics,
)


class Service(Protocol):
    name: str
    process: ManagedProcess

    @property
    def endpoint(self) -> str: ...

    @property
    def log_files(self) -> list[str]: ...

    def start(self) -> None: ...

    def stop(self) -> bool: ...

    def health(self) -> tuple[bool, str]: ...


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    pid: int | None
    endpoint: str
    healthy: bool
    detail: str


class LocalStack:
    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings.resolved()
        self.kafka = KafkaService(self.settings)
        self.elasticsearch = ElasticsearchService(self.settings)
        self.services: dict[str, Service] = {"kafka": self.kafka, "elasticsearch": self.elasticsearch}

    def fetch(self) -> list[Path]:
        """Stage every artifact (first run on a machine downloads; later runs find them cached)."""
        return stage_all(self.settings)

    def up(self, timeout_s: float = 180.0) -> list[ServiceStatus]:
        """Start what is not running, wait until healthy, create the missing topics of every job's
        settings (the broker does not auto-create them), install index templates.

        Idempotent: services already running under this state dir are left alone.
        """
        self.fetch()
        for service in self.services.values():
            service.start()
        deadline = time.monotonic() + timeout_s
        for service in self.services.values():
            self._wait_healthy(service, deadline)
        self.kafka.ensure_topics(configured_topics(IngestSettings(), PipelineSettings(), NotifySettings()))
        install_templates(self.settings.es_url)
        return self.status()

    def down(self) -> list[str]:
        """Stop the services this state dir started (and nothing else); return the names stopped."""
        return [s.name for s in reversed(self.services.values()) if s.stop()]

    def status(self) -> list[ServiceStatus]:
        statuses = []
        for service in self.services.values():
            pid = service.process.pid()
            healthy, detail = service.health() if pid is not None else (False, "not running")
            statuses.append(ServiceStatus(service.name, pid, service.endpoint, healthy, detail))
        return statuses

    def is_healthy(self) -> bool:
        return all(s.healthy for s in self.status())

    def logs(self, name: str, lines: int) -> str:
        service = self.services.get(name)
        if service is None:
            raise StackError(f"unknown service {name!r}; one of {sorted(self.services)}")
        chunks = []
        for path in service.log_files:
            text = tail_file(Path(path), lines)
            if text:
                chunks.append(f"==> {path} <==\n{text}")
        return "\n".join(chunks)

    @staticmethod
    def _wait_healthy(service: Service, deadline: float) -> None:
        detail = "not checked"
        while time.monotonic() < deadline:
            if service.process.exited_early():
                raise StackError(f"{service.name} exited during start-up:\n{service.process.tail(30)}")
            healthy, detail = service.health()
            if healthy:
                return
            time.sleep(0.5)
        raise StackError(
            f"{service.name} not healthy in time ({detail}); see `watchfloor stack logs {service.name}`"
        )
