import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.stack.process import ManagedProcess, StackError, require_free_port


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_start_and_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    marker = str(tmp_path / "marker")
    proc = ManagedProcess("svc", tmp_path, marker=marker)
    # A parent that leaves a grandchild behind: stop must take both.
    pid = proc.start(["bash", "-c", "sleep 300 & echo child=$!; wait", marker], env=os.environ)
    time.sleep(0.3)
    child = int(proc.log_file.read_text().split("child=")[1].split()[0])
    assert proc.pid() == pid
    assert _alive(child)

    assert proc.stop(timeout_s=5) is True
    assert not _alive(pid)
    assert not _alive(child)
    assert not proc.pid_file.exists()
    assert proc.stop() is False


def test_recycled_pid_without_marker_is_not_trusted(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        proc = ManagedProcess("svc", tmp_path, marker="/no/such/marker")
        proc.pid_file.write_text(f"{other.pid}\n")
        assert proc.pid() is None
        assert proc.stop() is False
        assert other.poll() is None  # never signalled
        assert not proc.pid_file.exists()
    finally:
        other.kill()
        other.wait()


def test_exited_early_reports_a_crashed_start(tmp_path: Path) -> None:
    proc = ManagedProcess("svc", tmp_path, marker=str(tmp_path))
    proc.start(["bash", "-c", f"echo boom; exit 3 # {tmp_path}"], env=os.environ)
    deadline = time.monotonic() + 5
    while not proc.exited_early() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.exited_early()
    assert "boom" in proc.tail(5)


def test_require_free_port_refuses_a_taken_port() -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(StackError, match=str(port)):
            require_free_port(port, "svc")
    require_free_port(port, "svc")
