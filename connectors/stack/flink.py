"""Beam's Flink job server for one ``watchfloor pipeline run``, owned by that process (ADR 0007).

Beam's ``FlinkRunner`` can start the JVM itself, but in the caller's process group (a terminal's
Ctrl-C kills it before the job could be cancelled) and with nothing that stops it if the caller is
SIGKILLed. Here the JVM gets its own session, the kernel kills it when its parent dies
(``PR_SET_PDEATHSIG``), and ``stop`` ends it — which also ends a job in an embedded MiniCluster, where
Beam's Cancel does not.

Flink's own REST and blob servers are bound to loopback (deploy/local/flink/flink-conf.yaml), but
Beam's gRPC servers in the JVM (job, artifact staging, and the Fn API servers for the workers) listen
on all interfaces: Beam 2.70's ``ServerFactory`` binds with ``NettyServerBuilder.forPort``, whatever
``--job-host`` says. Their ports are ephemeral; keep the machine off untrusted networks or firewall
them (deploy/README.md).
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import tempfile
import time
from types import TracebackType

from connectors.stack.artifacts import DEPLOY_LOCAL, flink_job_server_jar
from connectors.stack.java import find_java_home
from connectors.stack.process import StackError, free_port
from schemas.settings import StackSettings

LOCAL = "[local]"
"""Flink master meaning a MiniCluster inside the job server JVM."""
HEAP = "-Xmx768m"
_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the forked child only calls it


class FlinkJobServer:
    """Start with ``with FlinkJobServer(...) as endpoint:``; the JVM is gone when the block is left."""

    def __init__(self, settings: StackSettings, master: str = LOCAL, start_timeout_s: float = 120.0) -> None:
        self._settings = settings.resolved()
        self._master = master
        self._start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._artifacts: tempfile.TemporaryDirectory[str] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> str:
        """Start the JVM and wait until its job service accepts connections; returns its endpoint."""
        jar = flink_job_server_jar(self._settings)
        if not jar.exists():
            raise StackError(f"Flink job server not staged at {jar}; run `watchfloor stack fetch`")
        java = find_java_home(17, self._settings.java_home) / "bin" / "java"
        port = free_port()
        self._artifacts = tempfile.TemporaryDirectory(prefix="watchfloor-flink-artifacts-")
        argv = [
            str(java),
            HEAP,
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",  # Flink logs every task switch at INFO
            "-jar",
            str(jar),
            f"--flink-master={self._master}",
            "--job-host=127.0.0.1",
            f"--job-port={port}",
            "--artifact-port=0",
            "--expansion-port=0",
            f"--artifacts-dir={self._artifacts.name}",
        ]
        if self._master == LOCAL:  # Flink's own REST and blob servers on loopback
            argv.append(f"--flink-conf-dir={DEPLOY_LOCAL / 'flink'}")
        # preexec_fn is unsafe once threads hold locks at fork; the child runs no Python but one prctl.
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        deadline = time.monotonic() + self._start_timeout_s
        while not _accepts("127.0.0.1", port):
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self.stop()
                raise StackError(f"the Flink job server exited with {code} while starting")
            if time.monotonic() > deadline:
                self.stop()
                raise StackError(f"the Flink job server did not listen within {self._start_timeout_s:.0f}s")
            time.sleep(0.2)
        return f"127.0.0.1:{port}"

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM the JVM, SIGKILL it after ``timeout_s``; idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._artifacts is not None:
            self._artifacts.cleanup()
            self._artifacts = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends SIGKILL when the parent dies, however it dies."""
    if _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _accepts(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
