"""Stage everything the stack runs, once per machine, from the registries these machines reach.

Kafka's classpath and the Elasticsearch distribution come from Maven Central through ``mvn`` (its
local repository is the warm cache); Beam's Prism runner is built from the Go module proxy with the
versions pinned in ``deploy/local/prism/go.sum``. Nothing is downloaded at run or test time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from connectors.stack.process import StackError
from schemas.bundled import DEPLOY
from schemas.settings import ELASTICSEARCH_VERSION, KAFKA_VERSION, StackSettings

DEPLOY_LOCAL = DEPLOY / "local"
_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ELASTICSEARCH_VERSION}:zip"


def kafka_libs(settings: StackSettings) -> Path:
    return settings.cache_dir / f"kafka-{KAFKA_VERSION}" / "libs"


def es_zip(settings: StackSettings) -> Path:
    return settings.cache_dir / f"elasticsearch-{ELASTICSEARCH_VERSION}.zip"


def stage_all(settings: StackSettings) -> list[Path]:
    """Stage every artifact that is missing; return what is now in place."""
    return [stage_kafka(settings), stage_elasticsearch(settings), stage_prism(settings)]


def stage_kafka(settings: StackSettings) -> Path:
    target = kafka_libs(settings)
    if (target / ".complete").exists():
        return target
    with tempfile.TemporaryDirectory(dir=_ensure(settings.cache_dir)) as tmp:
        _maven(
            [
                "-f",
                str(DEPLOY_LOCAL / "maven" / "kafka.pom.xml"),
                f"{_DEPENDENCY_PLUGIN}:copy-dependencies",
                f"-DoutputDirectory={tmp}/libs",
                "-DincludeScope=runtime",
            ],
            "resolve the Kafka broker classpath from Maven Central",
        )
        jars = list(Path(tmp, "libs").glob(f"kafka_2.13-{KAFKA_VERSION}.jar"))
        if not jars:
            raise StackError(f"Maven resolved no kafka_2.13-{KAFKA_VERSION}.jar")
        (Path(tmp) / "libs" / ".complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        Path(tmp, "libs").rename(target)
    return target


def stage_elasticsearch(settings: StackSettings) -> Path:
    target = es_zip(settings)
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=_ensure(settings.cache_dir)) as tmp:
        _maven(
            [f"{_DEPENDENCY_PLUGIN}:copy", f"-Dartifact={ES_ARTIFACT}", f"-DoutputDirectory={tmp}"],
            "download the Elasticsearch integ-test distribution from Maven Central",
        )
        Path(tmp, target.name).rename(target)
    return target


def stage_prism(settings: StackSettings) -> Path:
    target = settings.prism_binary
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}
    _run(
        [
            _tool("go"),
            "build",
            "-trimpath",
            "-o",
            str(partial),
            "github.com/apache/beam/sdks/v2/go/cmd/prism",
        ],
        "build Beam's Prism runner from the Go module proxy",
        cwd=DEPLOY_LOCAL / "prism",
        env=env,
    )
    partial.rename(target)
    return target


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise StackError(f"`{name}` is not on PATH; the local stack needs it to stage its artifacts")
    return found


def _maven(args: list[str], what: str) -> None:
    _run([_tool("mvn"), "-B", "-q", *args], what)


def _run(argv: list[str], what: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise StackError(f"could not {what} (exit {proc.returncode}):\n{tail}")
