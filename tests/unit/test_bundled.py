"""Default paths find the bundled data wherever the command runs, and a rules root without rule packs
fails instead of classifying nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.cli import app
from pipeline.job import JobConfig, prepare
from schemas.bundled import DEPLOY, MissingRules, rule_packs
from schemas.settings import IngestSettings, NotifySettings, PipelineSettings

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_a_checkout_reads_its_own_deploy_directory() -> None:
    assert DEPLOY == REPO / "deploy"


def test_default_paths_are_the_bundled_data_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert IngestSettings().registry == DEPLOY / "feeds"
    assert PipelineSettings().rules_root == DEPLOY
    assert NotifySettings().config == DEPLOY / "notify.yaml"
    assert all(p.exists() for p in (DEPLOY / "feeds", DEPLOY / "notify.yaml", DEPLOY / "kibana"))


def test_settings_still_override_the_bundled_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_PIPELINE_RULES_ROOT", str(tmp_path))
    result = runner.invoke(app, ["rules", "test"])
    assert result.exit_code == 1
    assert f"{tmp_path / 'rules'}: no such rules directory" in result.output


def test_rules_test_runs_the_bundled_examples_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["rules", "test"])
    assert result.exit_code == 0, result.output
    assert int(result.output.split()[0]) > 0


GOLD = str(REPO / "bench" / "data" / "topics-dev.jsonl")


@pytest.mark.parametrize("command", [["classify"], ["rules", "test"], ["eval", "topics", "--gold", GOLD]])
def test_a_missing_rules_dir_is_a_failure(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--rules-dir", "/nonexistent"], input="")
    assert result.exit_code == 1, result.output
    assert "error: /nonexistent/rules: no such rules directory" in result.output


def test_an_empty_rules_dir_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    result = runner.invoke(app, ["classify", "--rules-dir", str(tmp_path)], input="")
    assert result.exit_code == 1
    assert f"{tmp_path / 'rules'}: no rule packs (*.yaml)" in result.output


def test_rule_packs_are_every_yaml_file_sorted(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    for name in ("b.yaml", "a.yaml", "notes.txt"):
        (tmp_path / "rules" / name).write_text("")
    assert [p.name for p in rule_packs(tmp_path)] == ["a.yaml", "b.yaml"]


def test_the_pipeline_refuses_to_start_without_rule_packs(tmp_path: Path) -> None:
    """Before touching Elasticsearch or Kafka (nothing listens on port 1)."""
    cfg = JobConfig("127.0.0.1:1", "http://127.0.0.1:1", PipelineSettings(rules_root=tmp_path))
    with pytest.raises(MissingRules, match="no such rules directory"):
        prepare(cfg)
