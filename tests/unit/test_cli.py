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
