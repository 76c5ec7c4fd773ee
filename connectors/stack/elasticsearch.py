"""A real Elasticsearch node from Elastic's integ-test distribution on Maven Central.

That distribution bundles no JDK, refuses to run as root, and lacks the ``rest-root`` module that serves
``GET /``; so the node runs as an unprivileged system user on a JDK 21+ found on the machine, and our
own small module (``deploy/local/elasticsearch/root-banner``) restores the banner that clients and
Kibana ask for.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from string import Template

from connectors.stack.artifacts import DEPLOY_LOCAL, es_zip
from connectors.stack.java import find_java_home
from connectors.stack.process import ManagedProcess, StackError, require_free_port
from schemas.settings import ELASTICSEARCH_VERSION, StackSettings

_BANNER_SRC = DEPLOY_LOCAL / "elasticsearch" / "root-banner"


class ElasticsearchService:
    name = "elasticsearch"

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.root = _node_root(settings)
        self.home = self.root / f"elasticsearch-{ELASTICSEARCH_VERSION}"
        self.data_dir = self.root / "data"
        self.logs_dir = self.root / "logs"
        self.process = ManagedProcess(self.name, settings.state_dir / "run", marker=str(self.home))

    @property
    def endpoint(self) -> str:
        return self.settings.es_url

    @property
    def log_files(self) -> list[str]:
        return [str(self.process.log_file), str(self.logs_dir / "watchfloor-local.log")]

    def start(self) -> None:
        if self.process.pid() is not None:
            return
        for port in (self.settings.es_port, self.settings.es_transport_port):
            require_free_port(port, self.name)
        java_home = find_java_home(21, self.settings.es_java_home)
        self._install(java_home)
        self._configure()
        env = {
            **os.environ,
            "ES_JAVA_HOME": str(java_home),
            "ES_JAVA_OPTS": f"-Xms{self.settings.es_heap_mb}m -Xmx{self.settings.es_heap_mb}m",
        }
        env.pop("JAVA_HOME", None)
        argv = [str(self.home / "bin" / "elasticsearch")]
        if os.geteuid() == 0:
            uid, gid = _ensure_user(self.settings.es_user)
            _chown_tree(self.root, uid, gid)
            argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", *argv]
            env["HOME"] = str(self.root)
        self.process.start(argv, env=env, cwd=self.root)

    def stop(self) -> bool:
        return self.process.stop(timeout_s=60)

    def health(self) -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_cluster/health", timeout=3) as resp:  # noqa: S310
                body = json.load(resp)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            return False, f"no _cluster/health: {exc}"
        status = body.get("status")
        return status in (
            "green",
            "yellow",
        ), f"{body.get('cluster_name')} {status}, {body.get('number_of_nodes')} node(s)"

    def _install(self, java_home: Path) -> None:
        marker = self.home / ".watchfloor-installed"
        if marker.exists():
            return
        shutil.rmtree(self.home, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        _unzip(es_zip(self.settings), self.root)
        _build_banner_module(self.home, java_home)
        marker.touch()

    def _configure(self) -> None:
        for path in (self.data_dir, self.logs_dir):
            path.mkdir(parents=True, exist_ok=True)
        template = Template((DEPLOY_LOCAL / "elasticsearch" / "elasticsearch.yml.tmpl").read_text())
        (self.home / "config" / "elasticsearch.yml").write_text(
            template.substitute(
                port=self.settings.es_port,
                transport_port=self.settings.es_transport_port,
                data_dir=self.data_dir,
                logs_dir=self.logs_dir,
            )
        )


def _node_root(settings: StackSettings) -> Path:
    """Where the node's files live: in the state dir, unless the unprivileged user could not reach it.

    As root, a state dir under a private home (mode 700) is out of reach for the node's user; then the
    node lives under /var/lib/watchfloor, in a folder named after the state dir, linked from it.
    """
    inside = settings.state_dir / "elasticsearch"
    if os.geteuid() != 0 or _world_traversable(settings.state_dir):
        return inside
    digest = hashlib.sha256(str(settings.state_dir).encode()).hexdigest()[:12]
    outside = Path("/var/lib/watchfloor") / f"es-{digest}"
    outside.mkdir(parents=True, exist_ok=True)
    os.chmod(outside.parent, 0o755)  # noqa: S103 - the node's user must traverse it; nothing secret inside
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    if not inside.is_symlink():
        shutil.rmtree(inside, ignore_errors=True)
        inside.symlink_to(outside)
    return outside


def _world_traversable(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def _ensure_user(name: str) -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def _unzip(archive: Path, dest: Path) -> None:
    """Unzip keeping the Unix permission bits (zipfile drops them; the launcher scripts need +x)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            extracted = Path(zf.extract(info, dest))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                extracted.chmod(mode)


def _build_banner_module(home: Path, java_home: Path) -> None:
    """Compile the root-banner module against this distribution's own jars and drop it into modules/."""
    out = home / "modules" / "root-banner"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        classes = Path(tmp) / "classes"
        javac = subprocess.run(
            [
                str(java_home / "bin" / "javac"),
                "--release",
                "21",
                "-proc:none",
                "-cp",
                f"{home / 'lib'}/*",
                "-d",
                str(classes),
                str(_BANNER_SRC / "RootBannerPlugin.java"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if javac.returncode != 0:
            raise StackError(f"could not compile the root-banner module: {javac.stderr.strip()[-800:]}")
        subprocess.run(
            [
                str(java_home / "bin" / "jar"),
                "--create",
                "--file",
                str(out / "root-banner.jar"),
                "-C",
                str(classes),
                ".",
            ],
            check=True,
            capture_output=True,
        )
    descriptor = Template((_BANNER_SRC / "plugin-descriptor.properties.tmpl").read_text())
    (out / "plugin-descriptor.properties").write_text(descriptor.substitute(es_version=ELASTICSEARCH_VERSION))
