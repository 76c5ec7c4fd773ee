"""Kibana assets and their installer, against a local stand-in for Kibana's HTTP APIs.

No Kibana runs here: the stand-in records what we send (paths, headers, bodies) and answers the way
Kibana's data views and saved objects import APIs do. The field test checks that every field an asset
names exists in the index template behind its data view, so an asset cannot point at nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr
from typer.testing import CliRunner

from connectors.cli import app
from connectors.kibana import ASSETS, SAVED_OBJECTS, KibanaError, setup_kibana
from schemas.es import templates
from tests.support.receiver import Received, Receiver, Reply

KEY = "a2liYW5hLWtleS1zZWNyZXQ="
VIEW = "/api/data_views/data_view"
IMPORT = "/api/saved_objects/_import?overwrite=true"
JSON = {"Content-Type": "application/json"}
RULES = Path(__file__).resolve().parents[2] / "deploy" / "rules"


def _objects() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (ASSETS / SAVED_OBJECTS).read_text().splitlines() if line]


def _views() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(ASSETS.glob("data-view-*.json"))]


def _reply(body: dict[str, Any], status: int = 200) -> Reply:
    return Reply(status, JSON, body=json.dumps(body).encode())


IMPORT_OK = _reply({"success": True, "successCount": len(_objects()), "warnings": []})


@pytest.fixture
def kibana() -> Iterator[Receiver]:
    """Answers data view creation like Kibana (200, the stored view) and the import with success."""
    with Receiver(default=_reply({"data_view": {"id": "stored"}})) as r:
        r.script(IMPORT, *[IMPORT_OK] * 4)
        yield r


def _multipart(request: Received) -> list[tuple[str, bytes]]:
    """(Content-Disposition, content) of each part, split on the boundary the request declared."""
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    parts = request.body.split(b"--" + boundary)[1:-1]
    out = []
    for part in parts:
        head, _, content = part.removeprefix(b"\r\n").removesuffix(b"\r\n").partition(b"\r\n\r\n")
        disposition = next(h for h in head.decode().split("\r\n") if h.lower().startswith("content-disp"))
        out.append((disposition, content))
    return out


def test_setup_creates_the_data_views_then_imports_the_saved_objects(kibana: Receiver) -> None:
    installed = setup_kibana(kibana.url(""), SecretStr(KEY), ASSETS)

    assert [r.path for r in kibana.received] == [VIEW, VIEW, IMPORT]
    *views, upload = kibana.received
    assert [json.loads(v.body) for v in views] == [{"data_view": v, "override": True} for v in _views()]
    for request in kibana.received:
        assert request.headers["kbn-xsrf"] == "true"
        assert request.headers["authorization"] == f"ApiKey {KEY}"
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert _multipart(upload) == [
        (
            f'Content-Disposition: form-data; name="file"; filename="{SAVED_OBJECTS}"',
            (ASSETS / SAVED_OBJECTS).read_bytes(),
        )
    ]
    assert installed[:2] == ["data view watchfloor-alerts", "data view watchfloor-articles"]
    assert installed[2:] == [f"{o['type']} {o['id']}" for o in _objects()]


def test_setup_twice_sends_the_same_requests_and_succeeds(kibana: Receiver) -> None:
    first = setup_kibana(kibana.url("/"), None, ASSETS)  # a trailing slash on the URL is fine
    second = setup_kibana(kibana.url(""), None, ASSETS)

    assert first == second
    requests = [(r.path, _multipart(r) if r.path == IMPORT else r.body) for r in kibana.received]
    assert requests[:3] == requests[3:]
    assert all("authorization" not in r.headers for r in kibana.received)


def test_a_refusal_names_the_step_status_and_message_never_the_key(kibana: Receiver) -> None:
    refusal = {"statusCode": 400, "error": "Bad Request", "message": f"bad data view (key {KEY})"}
    kibana.script(VIEW, _reply(refusal, 400))

    with pytest.raises(KibanaError) as refused:
        setup_kibana(kibana.url(""), SecretStr(KEY), ASSETS)

    message = str(refused.value)
    assert message.startswith("data view watchfloor-alerts: HTTP 400 bad data view")
    assert KEY not in message
    assert [r.path for r in kibana.received] == [VIEW]  # stops at the first failure


def test_a_failed_import_lists_the_objects_kibana_refused(kibana: Receiver) -> None:
    missing = {"type": "missing_references", "references": [{"type": "index-pattern", "id": "watchfloor-x"}]}
    failed = {
        "success": False,
        "successCount": 7,
        "errors": [
            {"type": "lens", "id": "watchfloor-top-actors", "error": missing},
            {
                "type": "dashboard",
                "id": "watchfloor-alerts-dashboard",
                "error": {"type": "unknown", "message": "boom"},
            },
        ],
    }
    kibana.script(IMPORT, _reply(failed))

    with pytest.raises(KibanaError) as refused:
        setup_kibana(kibana.url(""), SecretStr(KEY), ASSETS)

    assert str(refused.value) == (
        "saved objects import failed: "
        "lens/watchfloor-top-actors: missing_references index-pattern/watchfloor-x; "
        "dashboard/watchfloor-alerts-dashboard: unknown boom"
    )


def test_cli_takes_the_key_from_the_environment_and_never_prints_it(kibana: Receiver) -> None:
    runner = CliRunner()
    env = {"WATCHFLOOR_KIBANA_API_KEY": KEY}

    ok = runner.invoke(app, ["kibana", "setup", "--url", kibana.url("")], env=env)
    assert ok.exit_code == 0, ok.output
    assert "installed dashboard watchfloor-alerts-dashboard" in ok.output
    assert kibana.received[0].headers["authorization"] == f"ApiKey {KEY}"

    kibana.script(VIEW, _reply({"statusCode": 401, "message": "unauthorized"}, 401))
    refused = runner.invoke(app, ["kibana", "setup", "--url", kibana.url(""), "--api-key", KEY])
    assert refused.exit_code == 1
    assert "HTTP 401 unauthorized" in refused.output
    assert KEY not in ok.output + refused.output


# --- the assets themselves ---------------------------------------------------------------------------

FIELD_KEYS = {"sourceField", "field", "fieldName", "timeFieldName"}  # keys whose string value is a field
KQL_FIELD = re.compile(r"([\w@.*]+)\s*(?::|<=?|>=?)")


def _decoded(value: Any) -> Any:
    """Saved objects nest JSON in strings (searchSourceJSON, panelsJSON): decode them to walk inside."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _fields_named(node: Any) -> set[str]:
    """Every field a saved object or data view names, wherever it sits: field keys, search columns and
    sort, filter keys and KQL queries."""
    node = _decoded(node)
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _fields_named(item)
        return found
    if not isinstance(node, dict):
        return found
    for key, raw in node.items():
        value = _decoded(raw)
        if key in FIELD_KEYS and isinstance(value, str):
            found.add(value)
        elif key == "columns" and isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
        elif key == "sort" and isinstance(value, list):
            found.update(pair[0] for pair in value if isinstance(pair, list) and pair)
        elif key == "meta" and isinstance(value, dict) and isinstance(value.get("key"), str):
            found.add(value["key"])
        elif key == "query" and isinstance(value, dict) and value.get("language") == "kuery":
            text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', str(value.get("query", "")))
            found.update(KQL_FIELD.findall(text))
        found |= _fields_named(value)
    found.discard("___records___")  # Lens's document count, not a field
    return found


def _mapped(properties: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted names of a mapping: leaves, objects and multi-fields such as ``title.keyword``."""
    names: set[str] = set()
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        names.add(path)
        names |= _mapped(spec.get("properties", {}), f"{path}.")
        names.update(f"{path}.{sub}" for sub in spec.get("fields", {}))
    return names


def _fields_by_view() -> dict[str, set[str]]:
    """Data view id -> fields of the index template whose index pattern the data view searches."""
    by_view = {}
    for view in _views():
        bodies = [
            b for b in templates().values() if any(fnmatchcase(view["title"], p) for p in b["index_patterns"])
        ]
        assert len(bodies) == 1, view["title"]
        by_view[view["id"]] = _mapped(bodies[0]["template"]["mappings"]["properties"])
    return by_view


def test_every_field_an_asset_names_exists_in_its_index_template() -> None:
    by_view = _fields_by_view()
    checked: set[str] = set()
    for view in _views():
        assert _fields_named(view) <= by_view[view["id"]], view["id"]
    for obj in _objects():
        named = _fields_named(obj["attributes"])
        views = [r["id"] for r in obj["references"] if r["type"] == "index-pattern"]
        assert views or not named, f"{obj['id']} names fields but no data view"
        for view in views:
            assert named <= by_view[view], (obj["id"], named - by_view[view])
        checked |= named
    # The walk does find what the assets use (a walk that finds nothing would pass vacuously).
    assert {
        "@timestamp",
        "rule.name",
        "watchfloor.severity",
        "watchfloor.actor_ids",
        "watchfloor.feed.name",
    } <= checked


def test_the_field_walk_catches_a_missing_field() -> None:
    search = {
        "columns": ["message", "watchfloor.nope"],
        "kibanaSavedObjectMeta": {
            "searchSourceJSON": json.dumps(
                {"query": {"query": 'rule.name : "a:b" and event.nope >= 3', "language": "kuery"}}
            )
        },
    }
    assert _fields_named(search) - _fields_by_view()["watchfloor-alerts"] == {"watchfloor.nope", "event.nope"}


def test_data_views_have_fixed_ids_titles_and_time_field() -> None:
    assert _views() == [
        {
            "id": "watchfloor-alerts",
            "title": "watchfloor-alerts*",
            "name": "Watchfloor alerts",
            "timeFieldName": "@timestamp",
        },
        {
            "id": "watchfloor-articles",
            "title": "watchfloor-articles*",
            "name": "Watchfloor articles",
            "timeFieldName": "@timestamp",
        },
    ]


def test_one_saved_search_per_rule_and_a_dashboard_of_three_panels() -> None:
    objects = _objects()
    rules = {yaml.safe_load(p.read_text())["id"] for p in RULES.glob("*.yaml")}
    searches = [o for o in objects if o["type"] == "search"]
    queries = {
        json.loads(s["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
        for s in searches
    }
    assert queries == {f'rule.name : "{rule}"' for rule in rules}
    assert all(s["attributes"]["sort"] == [["@timestamp", "desc"]] for s in searches)

    ids = {(o["type"], o["id"]) for o in objects} | {("index-pattern", v["id"]) for v in _views()}
    for obj in objects:
        assert {(r["type"], r["id"]) for r in obj["references"]} <= ids, obj["id"]
        assert obj["coreMigrationVersion"] == "8.8.0" and obj["typeMigrationVersion"]
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    assert dashboard["attributes"]["title"] == "Watchfloor — alerts"
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    assert sorted(p["panelRefName"] for p in panels) == sorted(r["name"] for r in dashboard["references"])
    assert {r["type"] for r in dashboard["references"]} == {"lens"} and len(panels) == 3
