"""Stage everything the stack runs, once per machine, from the registries these machines reach.

Kafka's classpath, the Elasticsearch distribution and Beam's Flink job server classpath come from Maven
Central through ``mvn`` (its local repository is the warm cache); Beam's Prism runner is built from the
Go module proxy with the versions pinned in ``deploy/local/prism/go.sum``. Nothing is downloaded at run
or test time (docs/adr/0001-streaming-runner.md, docs/adr/0007-flink-runner.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from connectors.stack.process import StackError
from schemas.bundled import DEPLOY
from schemas.settings import BEAM_VERSION, ELASTICSEARCH_VERSION, KAFKA_VERSION, StackSettings

DEPLOY_LOCAL = DEPLOY / "local"
_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ELASTICSEARCH_VERSION}:zip"
FLINK_VERSION = "1.19"
"""The Flink minor the job server embeds; must match ``deploy/local/maven/flink.pom.xml``."""
FLINK_JOB_SERVER_MAIN = "org.apache.beam.runners.flink.FlinkJobServerDriver"
FLINK_OPERATOR_API = "org.apache.flink:flink-kubernetes-operator-api:1.10.0"
"""Carries the Flink Kubernetes Operator's CRDs, which deploy/k8s/ is validated against (offline)."""
FLINK_DEPLOYMENT_CRD = "META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml"


def kafka_libs(settings: StackSettings) -> Path:
    return settings.cache_dir / f"kafka-{KAFKA_VERSION}" / "libs"


def es_zip(settings: StackSettings) -> Path:
    return settings.cache_dir / f"elasticsearch-{ELASTICSEARCH_VERSION}.zip"


def flink_job_server_jar(settings: StackSettings) -> Path:
    """The launcher jar that Beam's ``FlinkRunner`` starts with ``java -jar``."""
    return settings.cache_dir / f"flink-{FLINK_VERSION}-beam-{BEAM_VERSION}" / "job-server.jar"


def stage_all(settings: StackSettings) -> list[Path]:
    """Stage every artifact that is missing; return what is now in place."""
    stages = (stage_kafka, stage_elasticsearch, stage_prism, stage_flink, stage_flink_operator_crd)
    return [stage(settings) for stage in stages]


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


def stage_flink(settings: StackSettings) -> Path:
    """Beam's Flink job server: its classpath from Maven Central plus a launcher jar that names it.

    Beam publishes no shaded job-server jar that is served here, so the runner's dependencies are copied
    next to a jar whose manifest holds only ``Main-Class`` and a relative ``Class-Path``.
    """
    target = flink_job_server_jar(settings)
    if target.exists():  # written last, inside a directory renamed into place whole
        return target
    with tempfile.TemporaryDirectory(dir=_ensure(settings.cache_dir)) as tmp:
        stage = Path(tmp, "stage")
        _maven(
            [
                "-f",
                str(DEPLOY_LOCAL / "maven" / "flink.pom.xml"),
                f"{_DEPENDENCY_PLUGIN}:copy-dependencies",
                f"-DoutputDirectory={stage}/libs",
                "-DincludeScope=runtime",
            ],
            "resolve Beam's Flink job server classpath from Maven Central",
        )
        runner = stage / "libs" / f"beam-runners-flink-{FLINK_VERSION}-{BEAM_VERSION}.jar"
        if not runner.exists():
            raise StackError(f"Maven resolved no {runner.name}")
        jars = sorted(f"libs/{jar.name}" for jar in (stage / "libs").glob("*.jar"))
        write_launcher_jar(stage / target.name, FLINK_JOB_SERVER_MAIN, jars)
        shutil.rmtree(target.parent, ignore_errors=True)
        stage.rename(target.parent)
    return target


def flink_deployment_crd(settings: StackSettings) -> Path:
    return settings.cache_dir / "flink-kubernetes-operator" / FLINK_OPERATOR_API.rsplit(":", 1)[1] / "crd.yml"


def stage_flink_operator_crd(settings: StackSettings) -> Path:
    """The FlinkDeployment CRD (its OpenAPI schema), taken from the operator's API jar on Maven Central."""
    target = flink_deployment_crd(settings)
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=_ensure(settings.cache_dir)) as tmp:
        _maven(
            [
                f"{_DEPENDENCY_PLUGIN}:copy",
                f"-Dartifact={FLINK_OPERATOR_API}",
                f"-DoutputDirectory={tmp}",
            ],
            "fetch the Flink Kubernetes Operator's CRDs from Maven Central",
        )
        (jar,) = Path(tmp).glob("*.jar")
        with zipfile.ZipFile(jar) as archive:
            crd = archive.read(FLINK_DEPLOYMENT_CRD)
        partial = Path(tmp, "crd.yml")
        partial.write_bytes(crd)
        _ensure(target.parent)
        partial.rename(target)
    return target


def write_launcher_jar(jar: Path, main_class: str, class_path: Iterable[str]) -> None:
    """A jar with nothing but a manifest: ``java -jar`` runs ``main_class`` on ``class_path``.

    Class-Path entries are URLs relative to the jar. Written with zipfile, so a JRE is enough.
    """
    fields = {
        "Manifest-Version": "1.0",
        "Created-By": "watchfloor",
        "Main-Class": main_class,
        "Class-Path": " ".join(class_path),
    }
    manifest = "".join(_manifest_line(f"{name}: {value}") for name, value in fields.items()) + "\r\n"
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("META-INF/MANIFEST.MF", manifest)


def _manifest_line(line: str) -> str:
    """The JAR spec caps manifest lines at 72 bytes; longer ones continue on lines led by one space."""
    chunks = [line[:72]] + [" " + line[i : i + 71] for i in range(72, len(line), 71)]
    return "".join(f"{chunk}\r\n" for chunk in chunks)


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
