"""Kafka 4.x in KRaft mode: one combined broker+controller on loopback, run from Maven Central jars."""

from __future__ import annotations

import os
import subprocess
from string import Template

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from connectors.stack.artifacts import DEPLOY_LOCAL, kafka_libs
from connectors.stack.java import find_java_home
from connectors.stack.process import ManagedProcess, StackError, require_free_port
from schemas.settings import StackSettings
from schemas.topics import TopicSpec


class KafkaService:
    name = "kafka"

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.home = settings.state_dir / "kafka"
        self.config_file = self.home / "config" / "server.properties"
        self.data_dir = self.home / "data"
        self.logs_dir = self.home / "logs"
        self.process = ManagedProcess(self.name, settings.state_dir / "run", marker=str(self.config_file))

    @property
    def endpoint(self) -> str:
        return self.settings.kafka_bootstrap

    @property
    def log_files(self) -> list[str]:
        return [str(self.process.log_file), str(self.logs_dir / "server.log")]

    def start(self) -> None:
        if self.process.pid() is not None:
            return
        for port in (self.settings.kafka_port, self.settings.kafka_controller_port):
            require_free_port(port, self.name)
        self._configure()
        java = find_java_home(17, self.settings.java_home) / "bin" / "java"
        jvm = self._jvm_args()
        if not (self.data_dir / "meta.properties").exists():
            self._format(str(java), jvm)
        self.process.start(
            [
                str(java),
                f"-Xms{min(256, self.settings.kafka_heap_mb)}m",
                f"-Xmx{self.settings.kafka_heap_mb}m",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                *jvm,
                "kafka.Kafka",
                str(self.config_file),
            ],
            env=os.environ,
        )

    def stop(self) -> bool:
        return self.process.stop()

    def health(self) -> tuple[bool, str]:
        """A metadata round trip: the broker is up and has a controller."""
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.endpoint, request_timeout_ms=3000)
        except KafkaError as exc:
            return False, f"no metadata: {exc.__class__.__name__}"
        try:
            cluster = admin.describe_cluster()
        except KafkaError as exc:
            return False, f"no metadata: {exc.__class__.__name__}"
        finally:
            admin.close()
        return True, f"cluster {cluster['cluster_id']}, controller {cluster['controller_id']}"

    def ensure_topics(self, specs: tuple[TopicSpec, ...]) -> list[str]:
        """Create the topics that are missing; return the names created."""
        admin = KafkaAdminClient(bootstrap_servers=self.endpoint, request_timeout_ms=10000)
        try:
            existing = set(admin.list_topics())
            missing = [s for s in specs if s.name not in existing]
            if missing:
                admin.create_topics(
                    [NewTopic(s.name, s.partitions, 1, topic_configs=dict(s.configs)) for s in missing],
                    timeout_ms=10000,
                )
        finally:
            admin.close()
        return [s.name for s in missing]

    def _configure(self) -> None:
        for path in (self.config_file.parent, self.data_dir, self.logs_dir):
            path.mkdir(parents=True, exist_ok=True)
        template = Template((DEPLOY_LOCAL / "kafka" / "server.properties.tmpl").read_text())
        self.config_file.write_text(
            template.substitute(
                port=self.settings.kafka_port,
                controller_port=self.settings.kafka_controller_port,
                data_dir=self.data_dir,
            )
        )

    def _jvm_args(self) -> list[str]:
        return [
            "-cp",
            f"{kafka_libs(self.settings)}/*",
            f"-Dlog4j2.configurationFile={DEPLOY_LOCAL / 'kafka' / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.logs_dir}",
        ]

    def _format(self, java: str, jvm: list[str]) -> None:
        tool = [java, *jvm, "kafka.tools.StorageTool"]
        cluster_id = subprocess.run(
            [*tool, "random-uuid"], capture_output=True, text=True, check=True
        ).stdout.strip()
        proc = subprocess.run(
            [*tool, "format", "-t", cluster_id, "-c", str(self.config_file)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise StackError(f"kafka storage format failed: {proc.stderr.strip()[-500:]}")
