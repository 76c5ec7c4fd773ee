from pathlib import Path

import pytest

from connectors.stack import java
from connectors.stack.process import StackError


def _jdk(root: Path, name: str, version: str) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("")
    (home / "release").write_text(f'IMPLEMENTOR="x"\nJAVA_VERSION="{version}"\n')
    return home


def test_java_major_reads_release_file(tmp_path: Path) -> None:
    assert java.java_major(_jdk(tmp_path, "a", "25.0.1")) == 25
    assert java.java_major(_jdk(tmp_path, "b", "17.0.15")) == 17
    assert java.java_major(_jdk(tmp_path, "c", "1.8.0_402")) == 8
    assert java.java_major(tmp_path / "missing") is None


def test_find_java_home_prefers_the_requested_then_the_newest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _jdk(tmp_path, "jdk17", "17.0.1")
    new = _jdk(tmp_path, "jdk25", "25")
    mid = _jdk(tmp_path, "jdk21", "21.0.2")
    monkeypatch.setattr(java, "_JVM_ROOTS", (tmp_path,))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(java.shutil, "which", lambda _: None)
    assert java.find_java_home(21) == new
    assert java.find_java_home(17, preferred=old) == old
    assert java.find_java_home(21, preferred=old) == new  # too old: ignored
    assert java.find_java_home(21, preferred=mid) == mid
    with pytest.raises(StackError, match="no JDK 26"):
        java.find_java_home(26)
