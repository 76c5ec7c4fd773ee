"""Typed settings, read once from the environment (prefix ``WATCHFLOOR_``).

Everything configurable lives here so that the CLI, the stack, the pipeline and the tests agree on
ports, paths and names without passing strings around.
"""

from __future__ import annotations

import os
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AnyHttpUrl, Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from schemas.bundled import DEPLOY
from schemas.topics import ALERTS, DEAD_LETTERS, INGEST_LEASES, ITEMS, OPS_ALERTS, STATE, TopicSpec

# Versions are part of the contract between the stack and the code that talks to it; see
# docs/adr/0001-streaming-runner.md for why these.
KAFKA_VERSION = "4.4.0"
ELASTICSEARCH_VERSION = "9.3.2"
BEAM_VERSION = "2.70.0"


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "watchfloor"


def _bundled_feeds() -> Path:
    return DEPLOY / "feeds"


def _bundled_rules() -> Path:
    return DEPLOY


def _bundled_notify() -> Path:
    return DEPLOY / "notify.yaml"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class LogFormat(StrEnum):
    json = "json"
    text = "text"


class LogSettings(BaseSettings):
    """How every job logs, on stderr: JSON for log shippers and supervisors, text for a terminal."""

    model_config = SettingsConfigDict(env_prefix="WATCHFLOOR_LOG_", extra="ignore")

    level: LogLevel = Field(
        default=LogLevel.INFO,
        description="DEBUG, INFO, WARNING or ERROR (any case), for Watchfloor's own loggers; libraries "
        "(Beam, kafka-python, httpx) log from WARNING, or from DEBUG at DEBUG. A command's --log-level wins.",
    )
    format: LogFormat = Field(
        default=LogFormat.json,
        description="`json`: one ECS object per line; `text`: time, level, logger, message and fields. "
        "A command's --log-format wins.",
    )

    @field_validator("level", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class StackSettings(BaseSettings):
    """Where the local stack lives and which loopback ports it binds."""

    model_config = SettingsConfigDict(env_prefix="WATCHFLOOR_", extra="ignore")

    state_dir: Path = Field(
        default=Path(".state"), description="Pid files, logs and service data (git-ignored)."
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir, description="Downloaded artifacts, shared by clones."
    )
    kafka_port: int = Field(default=9092, description="Kafka client listener on 127.0.0.1.")
    kafka_controller_port: int = Field(default=9093, description="KRaft controller listener on 127.0.0.1.")
    kafka_heap_mb: int = Field(default=512, le=512, description="Kafka JVM heap (MB).")
    es_port: int = Field(default=9200, description="Elasticsearch HTTP port on 127.0.0.1.")
    es_transport_port: int = Field(default=9300, description="Elasticsearch transport port on 127.0.0.1.")
    es_heap_mb: int = Field(default=768, le=1024, description="Elasticsearch JVM heap (MB).")
    es_user: str = Field(
        default="watchfloor", description="Unprivileged user Elasticsearch runs as when we are root."
    )
    java_home: Path | None = Field(
        default=None, description="JDK for Kafka (17+); default: the java on PATH."
    )
    es_java_home: Path | None = Field(
        default=None, description="JDK 21+ for Elasticsearch; default: newest found."
    )

    kafka_servers: str | None = Field(
        default=None,
        description="Bootstrap servers of an external Kafka (HOST:PORT,...); default: the local stack's.",
    )
    elasticsearch_url: SecretStr | None = Field(
        default=None,
        description="URL of an external Elasticsearch, credentials included; default: the local stack's.",
    )

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_servers or f"127.0.0.1:{self.kafka_port}"

    @property
    def es_url(self) -> str:
        if self.elasticsearch_url is not None:
            return self.elasticsearch_url.get_secret_value()
        return f"http://127.0.0.1:{self.es_port}"

    @property
    def prism_binary(self) -> Path:
        return self.cache_dir / "bin" / f"prism-{BEAM_VERSION}"

    def resolved(self) -> StackSettings:
        """Absolute paths, so that background processes do not depend on the caller's cwd."""
        return self.model_copy(
            update={"state_dir": self.state_dir.resolve(), "cache_dir": self.cache_dir.expanduser().resolve()}
        )


class IngestSettings(BaseSettings):
    """The ingestion job: which registry, how many workers, where metrics are served."""

    model_config = SettingsConfigDict(env_prefix="WATCHFLOOR_INGEST_", extra="ignore")

    registry: Path = Field(
        default_factory=_bundled_feeds, description="A registry YAML file or a directory of them."
    )
    workers: int = Field(default=8, ge=1, le=64, description="Feeds fetched concurrently.")
    per_host_concurrency: int = Field(default=2, ge=1, description="Concurrent fetches per publisher host.")
    parse_processes: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=0,
        description="Worker processes for parsing and normalising (feedparser needs CPU); 0 = in-thread.",
    )
    max_body_bytes: int = Field(default=10 * 1024 * 1024, description="Streamed feed body cap (bytes).")
    allow_networks: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated CIDRs that feeds and their redirects may reach although not public, "
        "e.g. `127.0.0.0/8,::1` for a local test server; loopback, link-local and private addresses are "
        "refused otherwise.",
    )
    metrics_port: int | None = Field(default=None, description="Serve Prometheus metrics on 127.0.0.1:PORT.")
    group_id: str = Field(
        default="watchfloor-ingest", description="Ingest processes sharing this id split feeds."
    )
    items_topic: str = Field(default=ITEMS.name, description="Where items are published.")
    dead_letter_topic: str = Field(
        default=DEAD_LETTERS.name, description="Where items that fail validation are published."
    )
    state_topic: str = Field(
        default=STATE.name, description="Compacted topic of each feed's validators and schedule."
    )
    leases_topic: str = Field(
        default=INGEST_LEASES.name,
        description="Record-less topic whose partitions split feeds between processes (at most one per "
        "partition).",
    )
    ops_topic: str = Field(
        default=OPS_ALERTS.name, description="Where operational alerts (silent or failing feeds) go."
    )
    # WebSub (docs/adr/0008-websub-and-silence-alerts.md): off unless both are set.
    websub_listen: str | None = Field(
        default=None, description="HOST:PORT the WebSub callback server binds, e.g. `127.0.0.1:8088`."
    )
    websub_public_url: AnyHttpUrl | None = Field(
        default=None,
        description="The callback server's URL as hubs reach it (through the reverse proxy), e.g. "
        "`https://watchfloor.example.org/websub`; every hub learns it.",
    )
    websub_lease_s: int = Field(default=86400, ge=60, description="hub.lease_seconds asked for.")
    websub_poll_interval_s: int = Field(
        default=1800, ge=30, description="Poll interval floor of a feed with an active subscription."
    )
    websub_verify_timeout_s: float = Field(
        default=300, gt=0, description="A request the hub has not verified by then has failed (retried)."
    )
    websub_max_body_bytes: int = Field(default=2 * 1024 * 1024, description="Pushed body cap (bytes).")
    health_silent_factor: float = Field(
        default=6.0, gt=1, description="A feed is silent after this many learned gaps without a new item…"
    )
    health_silent_floor_s: float = Field(default=6 * 3600, ge=0, description="…and at least this long.")
    health_failing_after: int = Field(
        default=6, ge=1, description="Failed polls in a row that raise a failing-feed alert."
    )
    health_check_s: float = Field(default=60, gt=0, description="How often feed health is evaluated.")

    @field_validator("websub_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        host, _, port = (value or "").rpartition(":")
        if value is not None and not (host and port.isdigit() and 0 < int(port) < 65536):
            raise ValueError("websub_listen must be HOST:PORT, e.g. 127.0.0.1:8088")
        return value

    @field_validator("allow_networks", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return (
            tuple(part.strip() for part in value.split(",") if part.strip())
            if isinstance(value, str)
            else value
        )


class PipelineSettings(BaseSettings):
    """The streaming job: where it reads and writes, its rule packs, and its state windows."""

    model_config = SettingsConfigDict(env_prefix="WATCHFLOOR_PIPELINE_", extra="ignore")

    group_id: str = Field(
        default="watchfloor-pipeline", description="Kafka consumer group whose offsets the job commits."
    )
    items_topic: str = Field(default=ITEMS.name, description="Kafka topic of FeedItems.")
    alerts_topic: str = Field(default=ALERTS.name, description="Kafka topic of alert revisions.")
    dead_letter_topic: str = Field(default=DEAD_LETTERS.name, description="Kafka topic of rejects.")
    articles_index: str = Field(default="watchfloor-articles", description="Elasticsearch index of articles.")
    alerts_index: str = Field(default="watchfloor-alerts", description="Elasticsearch index of alerts.")
    rules_root: Path = Field(
        default_factory=_bundled_rules, description="Holds rules/*.yaml, gazetteer/*.yaml and watchlist.yaml."
    )
    dedup_window_hours: float = Field(default=7 * 24, gt=0, description="Exact-dedup memory (event time).")
    story_ttl_hours: float = Field(
        default=72, gt=0, description="A story closes this long after its last article (event time)."
    )
    shards: int = Field(
        default=1,
        ge=1,
        description="State shards of the stateful core, by article language; each shard's state lives on "
        "one worker (ADR 0005). Above 1, stories no longer join across languages in different shards.",
    )

    def resolved(self) -> PipelineSettings:
        return self.model_copy(update={"rules_root": self.rules_root.resolve()})


class NotifySettings(BaseSettings):
    """The notifier: its destinations file, consumer group and topics."""

    model_config = SettingsConfigDict(env_prefix="WATCHFLOOR_NOTIFY_", extra="ignore")

    config: Path = Field(default_factory=_bundled_notify, description="Destinations and routing (YAML).")
    group_id: str = Field(
        default="watchfloor-notify", description="Notifier processes sharing it split work."
    )
    alerts_topic: str = Field(default=ALERTS.name, description="Kafka topic of alert revisions.")
    dead_letter_topic: str = Field(default=DEAD_LETTERS.name, description="Kafka topic of rejects.")
    state_topic: str = Field(
        default=STATE.name, description="Compacted topic of the delivery ledger and snoozes."
    )
    ops_topic: str = Field(
        default=OPS_ALERTS.name, description="Kafka topic of operational alerts (feed health)."
    )
    metrics_port: int | None = Field(default=None, description="Serve Prometheus metrics on 127.0.0.1:PORT.")


def configured_topics(
    ingest: IngestSettings, pipeline: PipelineSettings, notify: NotifySettings
) -> tuple[TopicSpec, ...]:
    """Every topic the jobs are configured to use, each with the partitions and configs of its role:
    what ``watchfloor stack up`` creates, since the broker does not auto-create topics."""
    roles = (
        (ITEMS, (ingest.items_topic, pipeline.items_topic)),
        (ALERTS, (pipeline.alerts_topic, notify.alerts_topic)),
        (DEAD_LETTERS, (ingest.dead_letter_topic, pipeline.dead_letter_topic, notify.dead_letter_topic)),
        (STATE, (ingest.state_topic, notify.state_topic)),
        (INGEST_LEASES, (ingest.leases_topic,)),
        (OPS_ALERTS, (ingest.ops_topic, notify.ops_topic)),
    )
    chosen: dict[str, TopicSpec] = {}  # a configured name -> the role it plays
    for role, names in roles:
        for name in names:
            if chosen.setdefault(name, role) is not role:
                raise ValueError(
                    f"topic {name!r} is configured for two roles: {chosen[name].name}, {role.name}"
                )
    return tuple(replace(role, name=name) for name, role in chosen.items())
