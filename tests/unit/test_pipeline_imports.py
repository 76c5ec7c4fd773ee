"""I/O stays at the edges: no module of pipeline/ imports Kafka, Elasticsearch or the connectors, except
the composition roots that wire sources and sinks (the job's, and the smoke job's)."""

import ast
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
COMPOSITION_ROOTS = {"job.py", "smoke.py"}
FORBIDDEN = {"kafka", "elasticsearch", "connectors"}


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


def test_pipeline_steps_import_no_io_client_and_no_connector() -> None:
    modules = [
        p for p in PIPELINE.rglob("*.py") if p.relative_to(PIPELINE).as_posix() not in COMPOSITION_ROOTS
    ]
    assert len(modules) > 10
    offenders = {p.relative_to(PIPELINE).as_posix(): sorted(_imported(p) & FORBIDDEN) for p in modules}
    assert {m: names for m, names in offenders.items() if names} == {}


def test_the_check_sees_the_composition_roots_imports() -> None:
    assert _imported(PIPELINE / "job.py") >= {"kafka", "elasticsearch", "connectors"}
