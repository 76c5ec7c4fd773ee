"""The wheel, installed outside the checkout, carries its data: rule packs, gazetteer, feeds, notifier
config, Kibana assets and the stack's templates.

The wheel is built offline with the pinned build backend and installed without dependencies into a
fresh venv in a temporary directory; the dev venv's site-packages is appended to its path for the
dependencies only (a .pth line, whose own .pth files, such as the editable install's, are not read), so
nothing of the checkout is importable there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SEED = REPO.parent / "shared" / "seeds" / "000_94c07411850b2005.txt"
TEXT = SEED if SEED.is_file() else REPO / "tests" / "unit" / "data" / "kim_putin_visit.txt"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns its bin directory."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", tmp, REPO],
        check=True,
    )
    (wheel,) = tmp.glob("watchfloor-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel],
        check=True,
    )
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "watchfloor_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def _run(bin_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """A command of the installed package, run from an empty directory (no deploy/ under the cwd)."""
    cwd = bin_dir.parent.parent / "elsewhere"
    cwd.mkdir(exist_ok=True)
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        check=False,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_installed_package_imports_nothing_from_the_checkout(installed: Path) -> None:
    probe = (
        "import json, connectors, schemas.bundled as b, schemas.settings as s, connectors.kibana as k, "
        "connectors.stack.artifacts as a\n"
        "print(json.dumps([connectors.__file__, str(b.DEPLOY), str(s.IngestSettings().registry), "
        "str(s.PipelineSettings().rules_root), str(s.NotifySettings().config), str(k.ASSETS), "
        "str(a.DEPLOY_LOCAL)]))"
    )
    result = _run(installed, "python", "-c", probe)
    assert result.returncode == 0, result.stderr
    module, *data = json.loads(result.stdout)
    site = installed.parent
    assert Path(module).is_relative_to(site) and not Path(module).is_relative_to(REPO / "connectors")
    assert all(Path(p).is_relative_to(site) and Path(p).exists() for p in data), data
    assert Path(data[0]).name == "watchfloor_data"


def test_installed_rules_test_runs_the_bundled_examples(installed: Path) -> None:
    result = _run(installed, "watchfloor", "rules", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    passed = int(result.stdout.strip().splitlines()[-1].split()[0])
    assert passed > 0 and result.stdout.strip().endswith("0 failed")


def test_installed_classify_finds_the_seed_story(installed: Path) -> None:
    line = json.dumps({"id": "seed", "text": TEXT.read_text(encoding="utf-8"), "language": "en"})
    result = _run(installed, "watchfloor", "classify", stdin=line + "\n")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"arms_transfer", "leader_visit"} <= {t["topic"] for t in out["topics"]}
    assert {"person:kim-jong-un", "person:vladimir-putin"} <= {a["id"] for a in out["actors"]}


def test_installed_feeds_list_reads_the_bundled_registry(installed: Path) -> None:
    result = _run(installed, "watchfloor", "feeds", "list")
    assert result.returncode == 0, result.stderr
    assert int(result.stderr.split()[0]) > 0


def test_a_missing_rules_dir_is_an_error(installed: Path) -> None:
    result = _run(installed, "watchfloor", "classify", "--rules-dir", "/nonexistent", stdin="")
    assert result.returncode == 1
    assert "no such rules directory" in result.stderr


def test_requires_python_is_every_version_the_pinned_beam_has_wheels_for() -> None:
    """3.11 (datetime.UTC, StrEnum) to 3.13: Beam 2.70.0 ships no 3.14 wheels."""
    import tomllib

    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    supported = SpecifierSet(project["requires-python"])
    assert [v for v in ("3.10", "3.11", "3.12", "3.13", "3.14") if v in supported] == ["3.11", "3.12", "3.13"]
    classified = {c.rsplit(" ", 1)[1] for c in project["classifiers"] if c.startswith("Programming Language")}
    assert classified == {"3.11", "3.12", "3.13"}
