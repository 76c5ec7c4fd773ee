"""Find a JDK of a given major version: Kafka runs on 17+, Elasticsearch 9 needs 21+."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from connectors.stack.process import StackError

_JVM_ROOTS = (Path("/usr/lib/jvm"), Path("/usr/local/lib/jvm"), Path("/opt/java"))


def java_major(home: Path) -> int | None:
    """The major version from a JDK's ``release`` file, or None if ``home`` is not a JDK."""
    try:
        text = (home / "release").read_text()
    except OSError:
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', text, re.MULTILINE)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_java_home(min_major: int, preferred: Path | None = None) -> Path:
    """``preferred`` if given and new enough, else JAVA_HOME, else the newest JDK under the usual roots."""
    candidates: list[Path] = []
    if preferred is not None:
        candidates.append(preferred)
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path).resolve().parent.parent)
    found = sorted(
        (p for root in _JVM_ROOTS if root.is_dir() for p in root.iterdir() if java_major(p)),
        key=lambda p: java_major(p) or 0,
        reverse=True,
    )
    for home in [*candidates, *found]:
        major = java_major(home)
        if major is not None and major >= min_major and (home / "bin" / "java").exists():
            return home
    raise StackError(
        f"no JDK {min_major}+ found (looked at {[str(c) for c in candidates]} and "
        f"{[str(r) for r in _JVM_ROOTS]}); install one or set WATCHFLOOR_ES_JAVA_HOME / WATCHFLOOR_JAVA_HOME"
    )
