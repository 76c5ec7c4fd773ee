"""The ``watchfloor`` CLI's offline commands, through Typer's runner."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

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


@pytest.mark.parametrize(
    "command",
    [
        ["feeds", "list"],
        ["feeds", "health"],
        ["feeds", "check"],
        ["stack", "status"],
        ["search"],
        ["alerts", "list"],
        ["alerts", "show"],
    ],
)
def test_every_listing_and_status_command_takes_json(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "--json" in result.output


def test_stack_status_as_json_is_a_line_per_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WATCHFLOOR_STATE_DIR", str(tmp_path))  # nothing runs there: each service down
    result = runner.invoke(app, ["stack", "status", "--json"])
    assert result.exit_code == 1
    services = [json.loads(line) for line in result.stdout.splitlines()]
    assert {s["name"] for s in services} >= {"kafka", "elasticsearch"}
    assert not any(s["healthy"] for s in services)


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
    as_json = runner.invoke(app, ["feeds", "list", "-r", str(registry), "--json"])
    (feed,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert (feed["id"], feed["tier"], feed["country"]) == ("kcna-watch", "state_media", "KP")
    opml = runner.invoke(app, ["feeds", "export-opml", "-r", str(registry)])
    assert 'xmlUrl="https://a.example/rss"' in opml.output
    assert runner.invoke(app, ["feeds", "remove", "kcna-watch", "-r", str(registry)]).exit_code == 0
    assert "kcna-watch" not in runner.invoke(app, ["feeds", "list", "-r", str(registry)]).output


def test_feeds_add_refuses_an_invalid_url(tmp_path: Path) -> None:
    registry = tmp_path / "r.yaml"
    result = runner.invoke(
        app, ["feeds", "add", "--id", "x", "--url", "file:///etc/passwd", "--name", "X", "-r", str(registry)]
    )
    assert result.exit_code == 2  # an invalid value on the command line is a usage error
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
    assert "modality" not in result.output  # a topics-only gold reads as before


def test_eval_topics_scores_modality_when_the_gold_has_it(tmp_path: Path) -> None:
    import json

    gold = tmp_path / "gold.jsonl"
    # 'will deliver' is planned in the modality cues; its gold says actual, to make one known error.
    lines = [
        {"id": "done", "text": "Germany delivered 18 Leopard tanks to Ukraine on Monday.",
         "topics": ["arms_transfer"], "modality": {"arms_transfer": "actual"}},
        {"id": "wrong", "text": "Germany will deliver 18 Leopard tanks to Ukraine next month.",
         "topics": ["arms_transfer"], "modality": {"arms_transfer": "actual"}},
        {"id": "hug", "text": "She ran into her brother's open arms.", "topics": ["arms_transfer"],
         "modality": {"arms_transfer": "denied"}},
    ]  # fmt: skip
    gold.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = runner.invoke(app, ["eval", "topics", "--gold", str(gold), "--show-errors", "5"])
    assert result.exit_code == 0, result.output
    assert (
        "modality accuracy 0.50 over 2 (article, topic) pairs gold and predicted; 1 gold pairs not scored"
        in (result.output)
    )
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line.strip()}
    # actual, planned_or_possible, reported, denied, recall
    assert rows["actual"] == ["1", "1", "0", "0", "0.50"]
    assert rows["denied"] == ["0", "0", "0", "0", "-"]
    assert rows["precision"] == ["1.00", "0.00", "-", "-"]
    assert "modality: 1 wrong of 2" in result.output
    assert (
        "wrong arms_transfer: gold actual, predicted planned_or_possible: Germany will deliver"
        in result.output
    )
    assert "cues 'will' planned_or_possible" in result.output


def test_eval_topics_rejects_a_bad_gold_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", "topics", "--gold", str(gold)])
    assert result.exit_code == 2
    assert "line 1: KeyError" in result.output


# -- every error is one line and a documented exit code ---------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY l0 "ha">'
    + b"".join(b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10) for n in range(1, 10))
    + b']><opml version="2.0"><body><outline text="&l9;" xmlUrl="https://a.example/rss"/></body></opml>'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    b'<opml version="2.0"><body><outline text="&x;" xmlUrl="https://a.example/rss"/></body></opml>'
)
GOOD_OPML = (
    b'<opml version="2.0"><body><outline text="Alpha" xmlUrl="https://a.example/rss"/>'
    b'<outline text="Beta" xmlUrl="https://b.example/rss"/></body></opml>'
)


def one_line_error(result: Result, code: int, *expected: str) -> str:
    """The command failed with ``code`` and said so in one ``error:`` line holding each ``expected``."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    assert "errors.pydantic.dev" not in result.output
    for text in expected:
        assert text in errors[0], errors[0]
    return errors[0]


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "no feed in the file"),
        (b"\x89PNG\r\n\x1a\n", "no feed in the file"),
        (BILLION_LAUGHS, "refused: the file declares XML entities"),
        (EXTERNAL_ENTITY, "refused: the file declares XML entities"),
        (None, "No such file or directory"),
    ],
    ids=["empty", "binary", "billion-laughs", "external-entity", "missing"],
)
def test_import_opml_failures_are_one_line(tmp_path: Path, data: bytes | None, expected: str) -> None:
    opml = tmp_path / "feeds.opml"
    if data is not None:
        opml.write_bytes(data)
    result = runner.invoke(app, ["feeds", "import-opml", str(opml), "-r", str(tmp_path / "r.yaml")])
    one_line_error(result, 1, "feeds.opml", expected)
    assert not (tmp_path / "r.yaml").exists()


def test_import_opml_of_a_broken_file_imports_what_it_can(tmp_path: Path) -> None:
    broken = _write(tmp_path / "broken.opml", GOOD_OPML.replace(b'/rss"/>', b'/rss?a=1&b=2"/>', 1)[:-14])
    result = runner.invoke(app, ["feeds", "import-opml", broken, "-r", str(tmp_path / "r.yaml")])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr and "not well-formed XML" in result.stderr
    assert result.stdout.startswith("imported 2 feeds")


def test_import_opml_again_imports_nothing_and_says_so(tmp_path: Path) -> None:
    opml, registry = _write(tmp_path / "feeds.opml", GOOD_OPML), str(tmp_path / "r.yaml")
    assert runner.invoke(app, ["feeds", "import-opml", opml, "-r", registry]).stdout.startswith("imported 2")
    again = runner.invoke(app, ["feeds", "import-opml", opml, "-r", registry])
    assert again.exit_code == 0
    assert again.stdout.strip() == f"imported 0 feeds into {registry}, 2 already there"
    assert again.stderr.count("skipped: ") == 2


def test_registry_failures_are_one_line(tmp_path: Path) -> None:
    invalid = _write(tmp_path / "invalid.yaml", b"feeds: [\n  - {id: a\n")
    add = ["feeds", "add", "--id", "x", "--url", "https://x.example/rss", "--name", "X", "-r"]
    one_line_error(
        runner.invoke(app, [*add, invalid]), 1, "invalid.yaml: not valid YAML", "(line 2, column 3)"
    )
    one_line_error(runner.invoke(app, [*add, "/nonexistent/dir/r.yaml"]), 1, "No such file or directory")
    one_line_error(runner.invoke(app, ["feeds", "remove", "nosuch", "-r", invalid]), 1, "not valid YAML")
    registry = tmp_path / "r.yaml"
    assert runner.invoke(app, [*add, str(registry)]).exit_code == 0
    one_line_error(runner.invoke(app, [*add, str(registry)]), 1, "feed 'x' is already in")
    one_line_error(
        runner.invoke(app, ["feeds", "remove", "nosuch", "-r", str(registry)]), 1, "'nosuch' is not in"
    )
    export = ["feeds", "export-opml", "-r", str(registry), "--out", "/nonexistent/x.opml"]
    one_line_error(runner.invoke(app, export), 1, "/nonexistent/x.opml: No such file or directory")


@pytest.mark.parametrize("command", ["list", "export-opml"])
def test_a_missing_registry_is_a_failure_not_an_empty_one(command: str) -> None:
    result = runner.invoke(app, ["feeds", command, "-r", "/nonexistent.yaml"])
    one_line_error(result, 1, "/nonexistent.yaml: no such registry file or directory")


@pytest.mark.parametrize("registry", ["/nonexistent.yaml", "EMPTY_DIR"])
def test_ingest_refuses_a_registry_that_is_not_there(registry: str, tmp_path: Path) -> None:
    """Before touching Kafka: an ingester polling no feed would look alive and fetch nothing."""
    target = str(tmp_path) if registry == "EMPTY_DIR" else registry
    result = runner.invoke(app, ["ingest", "--once", "-r", target])
    why = "no registry files (*.yaml) in this directory" if registry == "EMPTY_DIR" else "no such registry"
    one_line_error(result, 1, f"{target}: {why}")


def test_invalid_registry_entries_are_listed_then_fail(tmp_path: Path) -> None:
    registry = _write(
        tmp_path / "r.yaml", b"feeds:\n  - {id: ok, url: 'https://a.example/', name: A}\n  - {id: Bad}\n"
    )
    result = runner.invoke(app, ["feeds", "list", "-r", registry])
    assert result.stdout.startswith("ok ")
    assert "invalid: " in result.stderr and "feed Bad" in result.stderr
    one_line_error(result, 1, "the registry has 1 invalid entry")


def test_feeds_check_refuses_a_value_that_is_not_a_url() -> None:
    result = runner.invoke(app, ["feeds", "check", "not a url"])
    one_line_error(result, 2, "Invalid value for 'URL'", "http or https", "feeds check --help')")


def test_notify_with_an_invalid_config_is_one_line(tmp_path: Path) -> None:
    config = _write(tmp_path / "notify.yaml", b"destinations: [\n")
    result = runner.invoke(app, ["notify", "--config", config])
    one_line_error(result, 1, f"notifier cannot start: {config}: not valid YAML")
    invalid = _write(tmp_path / "invalid.yaml", b"destinations: 3\n")
    result = runner.invoke(app, ["notify", "--config", invalid])
    one_line_error(result, 1, "notifier cannot start", "invalid NotifyConfig: destinations")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["feeds", "add", "--url", "x"], "Missing option '--id'"),
        (
            ["feeds", "add", "--id", "x", "--url", "https://a.example/", "--name", "X", "--tier", "bogus"],
            "--tier",
        ),
        (["nosuch"], "No such command 'nosuch'"),
        (["--nosuch"], "No such option: --nosuch"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], expected: str) -> None:
    one_line_error(runner.invoke(app, args), 2, expected, "--help')")


def test_an_unforeseen_failure_is_one_line_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr("connectors.cli.feeds.load_registry", broken)
    registry = _write(tmp_path / "r.yaml", b"feeds: []\n")
    one_line_error(
        runner.invoke(app, ["feeds", "list", "-r", registry]), 1, "RuntimeError: something unexpected"
    )


def test_version_and_exit_codes_in_help() -> None:
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0
    assert version.stdout.strip() == "watchfloor 0.1.0"
    help_text = " ".join(runner.invoke(app, ["--help"]).stdout.replace("│", " ").split())
    assert "Exit codes: 0 ok; 1 failure" in help_text and "2 usage error" in help_text
