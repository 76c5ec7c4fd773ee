"""The committed JSON Schemas (schemas/json) are the contracts' export, and real documents satisfy them.

"Real" means produced by the project's own code: the deploy/ files people wrote, items digested from a
feed, feed state advanced by the scheduler, dead letters from the decoder, and articles and alerts from
the pipeline's state machine on the demo corpus.
"""

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from connectors.cli import app
from connectors.demo.corpus import Corpus, render_rss
from connectors.feeds.digest import DigestRequest, digest
from connectors.feeds.schedule import PollOutcome, advance, initial_state
from connectors.kafka_sink import dead_letter_record
from connectors.kafka_source import KafkaRecord
from pipeline.alerting import AlertLedger
from pipeline.articles import analyse, article_doc
from pipeline.classify.engine import Classifier
from pipeline.classify.rules import load_rules
from pipeline.records import AlertMessage, alert_record
from pipeline.scoring import Watchlist
from pipeline.state import PipelineState
from pipeline.tracking import Origin, Receipt
from pipeline.transforms import DecodeItemFn
from schemas.contracts import CONTRACTS, contract, json_schema, render
from schemas.deadletter import DeadLetter
from schemas.feed import FeedConfig
from schemas.item import FeedItem
from tests.support.alerts import alert
from tests.support.feeds import rss

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
EXPORTED = REPO / "schemas" / "json"
REGENERATE = "regenerate with `.venv/bin/watchfloor schemas export`"
XML = {"content-type": "application/rss+xml"}
T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


@cache
def _validator(name: str) -> Draft202012Validator:
    """The committed file's validator: documents are checked against what consumers actually get."""
    schema = json.loads((EXPORTED / f"{name}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _errors(name: str, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(name).iter_errors(document)
    ]


def _valid(name: str, document: Any) -> None:
    errors = _errors(name, document)
    assert not errors, f"{name}: {errors[:5]}"


def _rejected(name: str, document: Any, *, model_too: bool = True) -> None:
    """The schema rejects `document`, and (unless told) so does the model: strict where the model is."""
    assert _errors(name, document), f"{name} accepts {document!r}"
    if model_too:
        with pytest.raises(ValidationError):
            contract(name).model.model_validate(document)


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------ the export itself


@pytest.mark.parametrize("name", [c.name for c in CONTRACTS])
def test_committed_schema_is_the_contracts_export(name: str) -> None:
    path = EXPORTED / f"{name}.schema.json"
    assert path.is_file(), f"{path} is missing: {REGENERATE}"
    assert path.read_text(encoding="utf-8") == render(name), f"{path} is stale: {REGENERATE}"
    assert json.loads(path.read_text(encoding="utf-8")) == json_schema(name)


def test_no_schema_file_without_a_contract() -> None:
    exported = {p.name for p in EXPORTED.iterdir()}
    extra = sorted(exported - {c.file_name for c in CONTRACTS})
    assert not extra, f"{extra} in {EXPORTED} belong to no contract: {REGENERATE}"


@pytest.mark.parametrize("name", [c.name for c in CONTRACTS])
def test_schema_is_valid_draft_2020_12_and_stable(name: str) -> None:
    schema = json_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{name}.schema.json"
    assert schema["title"] == name and schema["description"]
    assert render(name) == render(name)


def test_date_times_are_really_checked() -> None:
    """Without rfc3339-validator, jsonschema skips `date-time` silently and naive times would pass."""
    assert "date-time" in Draft202012Validator.FORMAT_CHECKER.checkers


def test_cli_check_reports_stale_missing_and_extra_files_then_export_fixes_them(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["schemas", "export", "--check", str(EXPORTED)]).exit_code == 0
    assert runner.invoke(app, ["schemas", "export", str(tmp_path)]).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(c.file_name for c in CONTRACTS)
    (tmp_path / "alert.schema.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "rule.schema.json").unlink()
    (tmp_path / "retired.schema.json").write_text("{}\n", encoding="utf-8")
    before = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    check = runner.invoke(app, ["schemas", "export", "--check", str(tmp_path)])
    assert check.exit_code == 1
    for line in ("stale", "alert.schema.json"), ("missing", "rule.schema.json"), ("extra", "retired"):
        assert any(all(word in row for word in line) for row in check.output.splitlines()), check.output
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == before  # wrote nothing
    assert runner.invoke(app, ["schemas", "export", str(tmp_path)]).exit_code == 0
    assert runner.invoke(app, ["schemas", "export", "--check", str(tmp_path)]).exit_code == 0


def _models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """`model` and every model its fields hold, however nested (tuples, unions, dicts, Annotated)."""
    seen: set[type[BaseModel]] = set()

    def walk(annotation: Any) -> Iterator[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
            seen.add(annotation)
            yield annotation
            for field in annotation.model_fields.values():
                yield from walk(field.annotation)
        for arg in get_args(annotation):
            yield from walk(arg)

    return walk(model)


@pytest.mark.parametrize("name", [c.name for c in CONTRACTS])
def test_every_object_forbids_extra_keys_exactly_where_its_model_does(name: str) -> None:
    schema = json_schema(name)
    models = list(_models(contract(name).model))
    assert len(models) == 1 + sum(1 for d in schema.get("$defs", {}).values() if d.get("type") == "object")
    for model in models:
        node = schema if model is contract(name).model else schema["$defs"][model.__name__]
        forbids = model.model_config.get("extra") == "forbid"
        assert (node.get("additionalProperties") is False) == forbids, model.__name__


# ---------------------------------------------------------------------------- files people write


@pytest.mark.parametrize(("folder", "name"), [("feeds", "feed-registry"), ("gazetteer", "gazetteer")])
def test_every_deployed_file_validates(folder: str, name: str) -> None:
    files = sorted((DEPLOY / folder).glob("*.yaml"))
    assert files
    for path in files:
        _valid(name, _yaml(path))


def test_every_rule_pack_validates_shorthand_terms_included() -> None:
    files = sorted((DEPLOY / "rules").glob("*.yaml"))
    assert files
    for path in files:
        _valid("rule", _yaml(path))
    weapons = _yaml(DEPLOY / "rules" / "arms_transfer.yaml")["terms"]["weapons"]["en"]
    assert all(isinstance(term, str) for term in weapons)  # the shorthand the schema must accept


def test_notifier_configs_validate() -> None:
    for path in (DEPLOY / "notify.yaml", DEPLOY / "demo" / "notify.yaml"):
        _valid("notify-config", _yaml(path))


def test_registry_entry_with_unknown_tier_or_key_is_rejected() -> None:
    entry = {"id": "x", "url": "https://x.example/rss", "name": "X"}
    _valid("feed-registry", {"feeds": [entry]})
    _rejected("feed-registry", {"feeds": [entry | {"tier": "tabloid"}]})
    _rejected("feed-registry", {"feeds": [entry | {"intervall": 60}]})
    _rejected("feed-registry", {"feeds": [{"id": "x", "name": "X"}]})  # no url
    _rejected("feed-registry", {"feeds": [entry | {"min_interval_s": 5}]})  # ge=30


def test_rule_with_bad_term_or_missing_examples_is_rejected() -> None:
    rule = _yaml(DEPLOY / "rules" / "arms_transfer.yaml")
    _rejected("rule", {**rule, "terms": {"deal": {"en": [42]}}})
    _rejected("rule", {**rule, "terms": {"deal": {"en": [{"pattern": "x", "weigth": 2}]}}})
    _rejected("rule", {k: v for k, v in rule.items() if k != "examples"})


def test_notifier_config_with_unknown_kind_is_rejected() -> None:
    config = _yaml(DEPLOY / "notify.yaml")
    [destination] = config["destinations"]
    _rejected("notify-config", {**config, "destinations": [{**destination, "kind": "email"}]})
    _rejected("notify-config", {**config, "destinations": []})


# ---------------------------------------------------------------------------- documents Watchfloor emits


FEED = FeedConfig(id="d", url="https://news.example/d.xml", name="D", country="KR", tags=("korea",))


def _item_values() -> list[dict[str, Any]]:
    result = digest(DigestRequest(rss("d", 4), XML, FEED.url, FEED, T0))
    assert len(result.items) == 4
    return [json.loads(record.value) for record in result.items]


def test_digested_feed_items_validate() -> None:
    for value in _item_values():
        _valid("feed-item", value)


def test_feed_item_with_a_missing_wrong_or_extra_field_is_rejected() -> None:
    value = _item_values()[0]
    _rejected("feed-item", {k: v for k, v in value.items() if k != "content_hash"})
    _rejected("feed-item", value | {"score": 1})
    _rejected("feed-item", value | {"source": value["source"] | {"tier": "blog"}})
    _rejected("feed-item", value | {"source": value["source"] | {"extra": 1}})
    _rejected("feed-item", value | {"schema_version": 2})
    _rejected("feed-item", value | {"fetched": "yesterday"})
    _rejected("feed-item", value | {"fetched": "2026-05-04T06:00:00"})  # no offset: not AwareDatetime


def test_feed_state_after_polls_validates() -> None:
    rng = random.Random(7)
    state = initial_state(FEED, T0)
    _valid("feed-state", json.loads(state.model_dump_json()))
    digested = digest(DigestRequest(rss("d", 3), XML, FEED.url, FEED, T0))
    # What the ingester records after publishing (connectors/feeds/ingest.py), then the scheduler's step.
    state = state.model_copy(
        update={"recent_ids": [i.item_id for i in digested.items], "link_guids": dict(digested.links)}
    )
    state = advance(state, FEED, PollOutcome("ok", T0, new_items=3, etag='"v1"'), rng)
    state = advance(state, FEED, PollOutcome("ok", T0 + timedelta(minutes=20), new_items=2), rng, 1200)
    state = advance(
        state, FEED, PollOutcome("error", T0 + timedelta(hours=1), error_kind="http", status=410), rng
    )
    assert state.disabled_reason and state.mean_gap_s
    value = json.loads(state.model_dump_json())
    _valid("feed-state", value)
    _rejected("feed-state", {k: v for k, v in value.items() if k != "next_due"})
    _rejected("feed-state", value | {"recent_ids": "a"})
    _rejected("feed-state", value | {"cursor": 1})


def test_dead_letter_from_the_decoder_validates_without_its_tag() -> None:
    origin = Origin("watchfloor.items", 2, 41, 39)
    record = KafkaRecord(origin.topic, 2, 41, b"k", b'{"title": 1}', 1_777_874_400_000, (), first=39)
    [out] = DecodeItemFn().process(record)
    letter = out.value
    assert isinstance(letter, DeadLetter) and letter.tag == Receipt(origin, "dead", 1)
    _, raw = dead_letter_record(letter)
    value = json.loads(raw)
    assert "tag" not in value
    _valid("dead-letter", value)
    _valid(
        "dead-letter",
        json.loads(DeadLetter.of("WriteArticles", "mapping", "doc a1", b"\xff{}").model_dump_json()),
    )
    _rejected("dead-letter", {k: v for k, v in value.items() if k != "reason"})
    _rejected("dead-letter", value | {"at": "yesterday"})


@pytest.fixture(scope="module")
def pipeline_output() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every demo article through digest → decode → the pipeline's state: article docs and Kafka alerts."""
    corpus = Corpus.load()
    classifier = Classifier.from_dir(DEPLOY)
    weights = {rule.id: rule.alert_weight for rule in load_rules((DEPLOY / "rules").glob("*.yaml"))}
    state = PipelineState(AlertLedger(weights, Watchlist.load(DEPLOY / "watchlist.yaml")))
    feeds = corpus.feeds(lambda outlet: f"http://127.0.0.1:1/{outlet}.xml")
    fetched = T0 + timedelta(hours=6)

    def items() -> Iterator[FeedItem]:
        for feed in feeds:
            body = render_rss(corpus.outlets[feed.id], corpus.by_outlet(feed.id), T0)
            for record in digest(DigestRequest(body, XML, feed.url, feed, fetched)).items:
                yield FeedItem.model_validate_json(record.value)

    articles, alerts = [], []
    origin = Origin("watchfloor.items", 0, 0, 0)
    for item in sorted(items(), key=lambda i: i.event_time):
        if state.deduplicate(item) in {"url", "hash"}:
            continue
        analysis = analyse(classifier, item)
        placed = state.assign(item, analysis)
        decided = state.decide(placed)
        articles.append(
            article_doc(item, analysis, placed.story.story_id, syndicated=placed.syndicated).to_es()
        )
        alerts += [json.loads(alert_record(AlertMessage(a, Receipt(origin, "kafka", 1)))[1]) for a in decided]
    return articles, alerts


def test_pipeline_article_documents_validate(pipeline_output: tuple[list[dict[str, Any]], ...]) -> None:
    articles, _ = pipeline_output
    assert len(articles) > 10 and any(a["topics"] for a in articles) and any(a["actors"] for a in articles)
    for doc in articles:
        _valid("article", doc)


def test_pipeline_alerts_validate(pipeline_output: tuple[list[dict[str, Any]], ...]) -> None:
    _, alerts = pipeline_output
    assert alerts
    for doc in alerts:
        _valid("alert", doc)


@pytest.mark.parametrize("severity", ["low", "medium", "high", "critical"])
def test_built_alert_documents_validate(severity: str) -> None:
    _valid("alert", alert(1, severity).to_es())


def test_article_or_alert_without_its_timestamp_or_with_a_wrong_field_is_rejected(
    pipeline_output: tuple[list[dict[str, Any]], ...],
) -> None:
    article = pipeline_output[0][0]
    doc = alert(1).to_es()
    _rejected("alert", {k: v for k, v in doc.items() if k != "@timestamp"})
    # The model also takes the field name (populate_by_name); the document always carries the alias.
    renamed = {k: v for k, v in doc.items() if k != "@timestamp"} | {"timestamp": doc["@timestamp"]}
    _rejected("alert", renamed, model_too=False)
    _rejected("alert", doc | {"watchfloor": doc["watchfloor"] | {"severity": "urgent"}})
    _rejected("alert", doc | {"watchfloor": doc["watchfloor"] | {"revision": 0}})
    _rejected("alert", doc | {"event": doc["event"] | {"kind": "event"}})
    _rejected("article", {k: v for k, v in article.items() if k != "@timestamp"})
    _rejected("article", article | {"score": 1.0})
