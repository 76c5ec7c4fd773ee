"""The ``watchfloor`` CLI's offline commands, through Typer's runner."""

from pathlib import Path

from typer.testing import CliRunner

from connectors.cli import app

runner = CliRunner()


def test_every_subcommand_has_help() -> None:
    for args in (
        [],
        ["stack"],
        ["stack", "up"],
        ["stack", "logs"],
        ["feeds"],
        ["feeds", "health"],
        ["feeds", "check"],
        ["ingest"],
        ["smoke"],
        ["classify"],
        ["rules", "test"],
    ):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_feeds_add_list_export_remove(tmp_path: Path) -> None:
    registry = tmp_path / "r.yaml"
    add = [
        "feeds",
        "add",
        "--id",
        "kcna-watch",
        "--url",
        "https://a.example/rss",
        "--name",
        "A",
        "-r",
        str(registry),
    ]
    assert runner.invoke(app, [*add, "--tier", "state_media", "--country", "KP"]).exit_code == 0
    listed = runner.invoke(app, ["feeds", "list", "-r", str(registry)])
    assert "kcna-watch" in listed.output and "state_media" in listed.output
    opml = runner.invoke(app, ["feeds", "export-opml", "-r", str(registry)])
    assert 'xmlUrl="https://a.example/rss"' in opml.output
    assert runner.invoke(app, ["feeds", "remove", "kcna-watch", "-r", str(registry)]).exit_code == 0
    assert "kcna-watch" not in runner.invoke(app, ["feeds", "list", "-r", str(registry)]).output


def test_feeds_add_refuses_an_invalid_url(tmp_path: Path) -> None:
    registry = tmp_path / "r.yaml"
    result = runner.invoke(
        app, ["feeds", "add", "--id", "x", "--url", "file:///etc/passwd", "--name", "X", "-r", str(registry)]
    )
    assert result.exit_code == 1
    assert "http or https" in result.output
    assert not registry.exists()


def test_rules_test_runs_every_example() -> None:
    result = runner.invoke(app, ["rules", "test"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("0 failed")


def test_classify_reads_json_lines_and_reports_bad_lines() -> None:
    import json

    good = {
        "id": "k1",
        "title": "Kim Jong Un may visit Russia for arms talks with Putin",
        "text": "North Korean leader Kim Jong Un may travel to Russia to meet President Vladimir Putin "
        "and discuss supplying artillery shells for the war in Ukraine, US officials said.",
        "language": "en",
    }
    result = runner.invoke(app, ["classify"], input=json.dumps(good) + "\n{broken\n")
    assert result.exit_code == 1  # one bad line, reported, the good one still answered
    first = json.loads(result.output.splitlines()[0])
    assert first["id"] == "k1"
    assert {"arms_transfer", "leader_visit"} <= {t["topic"] for t in first["topics"]}
    assert {"PRK", "RUS", "person:kim-jong-un", "person:vladimir-putin"} <= {a["id"] for a in first["actors"]}
    assert first["modality"] == "planned_or_possible"
    assert all("explanation" in t and "score" in t for t in first["topics"])
    assert "line 2: skipped" in result.output
