"""Background processes owned by the stack: pid files, liveness, and a stop that leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """A service could not be staged, started, or stopped; the message says which and why."""


@dataclass(frozen=True)
class ManagedProcess:
    """One long-running service process, tracked by a pid file in the stack's state dir.

    The process is started in a new session, so stopping signals its whole process group (for instance
    Elasticsearch's launcher and server JVMs). A pid is only trusted while its command line still
    contains ``marker`` (a path unique to this state dir), so a recycled pid is never signalled.
    """

    name: str
    run_dir: Path
    marker: str

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.out"

    def pid(self) -> int | None:
        """The pid of our running process, or None if there is none (or only a stale pid file)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _cmdline_contains(pid, self.marker) else None

    def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        return proc.pid

    def exited_early(self) -> bool:
        """True when a pid file exists but its process is gone (start-up crashed).

        Judged by liveness, not by the marker: right after start the new process's command line can
        still read empty (measured under load), which must not look like a crash.
        """
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return False
        return not is_alive(pid)

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL after ``timeout_s``; True if something was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while group_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if group_alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while group_alive(pid):
                _reap(pid)
                time.sleep(0.1)
        _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def tail(self, lines: int) -> str:
        return tail_file(self.log_file, lines)


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def is_alive(pid: int) -> bool:
    """Running and not a zombie (an unreaped process counts as gone)."""
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"


def _cmdline_contains(pid: int, marker: str) -> bool:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return is_alive(pid) and marker.encode() in raw


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def group_alive(pgid: int) -> bool:
    """Whether any non-zombie process is left in the group (zombies of other parents do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = proc_stat(int(stat.parent.name))
        if fields is not None and fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def free_port() -> int:
    """A loopback port nothing listens on now (for a local child process's metrics, say)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_free_port(port: int, service: str) -> None:
    """Refuse to start over a port that someone else holds, rather than fail later with a bind error."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise StackError(
                f"{service}: port {port} on 127.0.0.1 is in use by a process this stack did not start; "
                f"stop it or choose another port (WATCHFLOOR_*_PORT)"
            )


def tail_file(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a log file, or "" if it does not exist yet."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
