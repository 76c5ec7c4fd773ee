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
        ["eval"],
        ["eval", "topics"],
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


def test_eval_topics_scores_a_gold_file_and_lists_errors(tmp_path: Path) -> None:
    import json

    gold = tmp_path / "gold.jsonl"
    lines = [
        {"id": "deal", "text": "Poland signed an arms deal for 96 helicopters.", "topics": ["arms_transfer"]},
        {"id": "hug", "text": "She ran into her brother's open arms.", "topics": ["arms_transfer"]},
        {"id": "calm", "text": "The committee published its annual report on Monday.", "topics": []},
    ]
    gold.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = runner.invoke(app, ["eval", "topics", "--gold", str(gold), "--show-errors", "5"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line.strip()}
    # gold, found, tp, fp, fn, precision, recall, f1
    assert rows["arms_transfer"] == ["2", "1", "1", "0", "1", "1.00", "0.50", "0.67"]
    assert rows["sanctions"] == ["0", "0", "0", "0", "0", "-", "-", "-"]
    assert "macro-F1 0.67 over 5 topics, 3 articles" in result.output
    assert "arms_transfer: 1 missed, 0 false alarms" in result.output
    assert "missed hug: She ran into her brother's open arms." in result.output


def test_eval_topics_rejects_a_bad_gold_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", "topics", "--gold", str(gold)])
    assert result.exit_code == 2
    assert "line 1: KeyError" in result.output
