"""Kibana assets and their installer, against a local stand-in for Kibana's HTTP APIs.

No Kibana runs here: the stand-in checks what we send (paths, headers, bodies); the field test checks
every field the assets use exists in our index templates, so an asset cannot point at nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.kibana import ASSETS, KibanaError, setup_kibana
from schemas.es import templates
from tests.support.receiver import Receiver, Reply

KEY = "a2liYW5hLWtleS1zZWNyZXQ="
IMPORT_OK = Reply(200, {"Content-Type": "application/json"}, body=b'{"success": true, "successCount": 9}')


@pytest.fixture
def kibana() -> Iterator[Receiver]:
    with Receiver(default=Reply(200, {"Content-Type": "application/json"}, body=b"{}")) as r:
        yield r


def _objects() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (ASSETS / "saved-objects.ndjson").read_text().splitlines() if line]


def test_setup_creates_data_views_then_imports_saved_objects(kibana: Receiver) -> None:
    kibana.script("/api/saved_objects/_import?overwrite=true", IMPORT_OK)
    installed = setup_kibana(kibana.url(""), SecretStr(KEY))
    views = kibana.at("/api/data_views/data_view")
    assert [json.loads(v.body)["data_view"]["id"] for v in views] == [
        "watchfloor-alerts",
        "watchfloor-articles",
    ]
    assert all(json.loads(v.body)["override"] is True for v in views)
    (upload,) = kibana.at("/api/saved_objects/_import?overwrite=true")
    for request in [*views, upload]:
        assert request.headers["kbn-xsrf"] == "true"
        assert request.headers["authorization"] == f"ApiKey {KEY}"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"' in upload.body
    assert (ASSETS / "saved-objects.ndjson").read_bytes() in upload.body
    assert installed == ["data view watchfloor-alerts", "data view watchfloor-articles", "9 saved objects"]


def test_setup_twice_sends_the_same_requests(kibana: Receiver) -> None:
    kibana.script("/api/saved_objects/_import?overwrite=true", IMPORT_OK, IMPORT_OK)
    setup_kibana(kibana.url(""), None)
    first = [(r.path, r.body) for r in kibana.received]
    setup_kibana(kibana.url(""), None)
    second = [(r.path, r.body) for r in kibana.received[len(first) :]]
    strip = re.compile(rb"-{2,}[0-9a-f]+")  # multipart boundaries differ per request

    assert [(p, strip.sub(b"", b)) for p, b in first] == [(p, strip.sub(b"", b)) for p, b in second]
    assert "authorization" not in kibana.received[0].headers


def test_errors_name_the_status_and_failed_objects_never_the_key(kibana: Receiver) -> None:
    kibana.script("/api/data_views/data_view", Reply(400, body=b'{"message": "bad data view"}'))
    with pytest.raises(KibanaError) as refused:
        setup_kibana(kibana.url(""), SecretStr(KEY))
    assert "HTTP 400" in str(refused.value) and "bad data view" in str(refused.value)
    assert KEY not in str(refused.value)

    error = {"type": "lens", "id": "watchfloor-top-actors", "error": {"type": "missing_references"}}
    failed = json.dumps({"success": False, "errors": [error]}).encode()
    kibana.script("/api/saved_objects/_import?overwrite=true", Reply(200, body=failed))
    with pytest.raises(KibanaError, match="lens/watchfloor-top-actors: missing_references"):
        setup_kibana(kibana.url(""), SecretStr(KEY))


def _template_fields() -> set[str]:
    fields: set[str] = set()

    def walk(props: dict[str, Any], prefix: str) -> None:
        for name, spec in props.items():
            path = f"{prefix}{name}"
            if "properties" in spec:
                walk(spec["properties"], f"{path}.")
            else:
                fields.add(path)
                fields.update(f"{path}.{sub}" for sub in spec.get("fields", {}))

    for body in templates().values():
        walk(body["template"]["mappings"]["properties"], "")
    return fields


def _used_fields() -> set[str]:
    """Every field an asset names: data view time fields, columns, sorts, KQL fields, Lens sources."""
    used = {json.loads(p.read_text())["timeFieldName"] for p in ASSETS.glob("data-view-*.json")}
    for obj in _objects():
        attrs = obj["attributes"]
        used.update(attrs.get("columns", []))
        used.update(field for field, _ in attrs.get("sort", []))
        search = json.loads(attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", "{}"))
        used.update(re.findall(r"([\w@.]+)\s*:", search.get("query", {}).get("query", "")))
        for layer in (
            attrs.get("state", {}).get("datasourceStates", {}).get("formBased", {}).get("layers", {}).values()
        ):
            used.update(
                c["sourceField"] for c in layer["columns"].values() if c["sourceField"] != "___records___"
            )
    return used


def test_every_field_the_assets_use_exists_in_the_index_templates() -> None:
    used = _used_fields()
    assert {"rule.name", "watchfloor.actor_ids", "source.name", "@timestamp"} <= used  # the walk found them
    assert used <= _template_fields(), used - _template_fields()


def test_saved_objects_reference_the_data_views_and_the_dashboard_its_panels() -> None:
    objects = _objects()
    ids = {o["id"] for o in objects} | {"watchfloor-alerts", "watchfloor-articles"}
    searches = [o for o in objects if o["type"] == "search"]
    assert {s["attributes"]["title"].split(": ")[1] for s in searches} == {
        "arms transfer",
        "leader visit",
        "sanctions",
        "weapons test",
        "military exercise",
    }
    for obj in objects:
        assert all(ref["id"] in ids for ref in obj["references"]), obj["id"]
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    refs = {r["name"] for r in dashboard["references"]}
    assert {p["panelRefName"] for p in panels} == refs and len(panels) == 3
