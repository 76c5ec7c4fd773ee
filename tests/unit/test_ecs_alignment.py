"""Kibana data views span both indices: a field must mean one thing in both, and ECS's where ECS names it.

The ECS 8.x reference (field names and types only) for the field sets our templates touch; ``wildcard``
and ``match_only_text`` are stated as the core type of their family, which is what the templates may use
(the local node has core types only) and which Kibana sees as the same (string) field.
"""

from __future__ import annotations

from typing import Any

import pytest

from schemas.es import templates

ECS_TOP_LEVEL = {
    "@timestamp", "agent", "client", "cloud", "container", "data_stream", "destination", "device", "dll",
    "dns", "ecs", "email", "error", "event", "faas", "file", "group", "host", "http", "labels", "log",
    "message", "network", "observer", "orchestrator", "organization", "package", "process", "registry",
    "related", "rule", "server", "service", "source", "span", "tags", "threat", "tls", "trace",
    "transaction", "url", "user", "user_agent", "vulnerability",
}  # fmt: skip
"""ECS's root fields and field sets: a template field under one of these must be an ECS field."""

ECS_FIELDS = {
    "@timestamp": "date",
    "message": "text",
    "tags": "keyword",
    **{f"event.{n}": "keyword" for n in ("kind", "category", "id", "type", "outcome", "action")},
    "event.severity": "long",
    "event.created": "date",
    **{f"rule.{n}": "keyword" for n in ("name", "category", "id", "description", "reference", "ruleset")},
    **{
        f"url.{n}": "keyword"
        for n in ("full", "original", "domain", "path", "scheme", "query", "fragment", "registered_domain")
    },
    "url.port": "long",
    **{f"source.{n}": "keyword" for n in ("address", "domain", "mac", "registered_domain", "subdomain")},
    "source.ip": "ip",
    "source.port": "long",
    "source.bytes": "long",
    "source.packets": "long",
}

FAMILY = {"wildcard": "keyword", "constant_keyword": "keyword", "match_only_text": "text"}


def _fields(props: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted path -> mapping type, objects included (as "object")."""
    out: dict[str, str] = {}
    for name, spec in props.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            out[path] = "object"
            out |= _fields(spec["properties"], f"{path}.")
        else:
            out[path] = FAMILY.get(spec.get("type", "object"), spec.get("type", "object"))
    return out


def _mapped(name: str) -> dict[str, str]:
    return _fields(templates()[name]["template"]["mappings"]["properties"])


def ecs_conflicts(fields: dict[str, str]) -> list[str]:
    """Fields under an ECS name that are not ECS's field of that type."""
    wrong = []
    for path, kind in fields.items():
        if path.split(".")[0] not in ECS_TOP_LEVEL or kind == "object":
            continue
        if ECS_FIELDS.get(path) != kind:
            wrong.append(f"{path}: {kind}, ECS: {ECS_FIELDS.get(path, 'no such field')}")
    return wrong


def cross_index_conflicts(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """Paths mapped differently in two indices (a leaf in one, an object or another type in the other)."""
    return [f"{p}: {a[p]} vs {b[p]}" for p in sorted(a.keys() & b.keys()) if a[p] != b[p]]


@pytest.mark.parametrize("name", ["articles", "alerts"])
def test_fields_under_ecs_names_are_ecs_fields(name: str) -> None:
    assert ecs_conflicts(_mapped(name)) == []


def test_articles_and_alerts_share_no_conflicting_field() -> None:
    articles, alerts = _mapped("articles"), _mapped("alerts")
    assert cross_index_conflicts(articles, alerts) == []
    # What a data view over both indices uses together: the link, the time, the rule.
    assert articles["url"] == alerts["url"] == "object"
    assert articles["url.full"] == alerts["url.full"] == "keyword"
    assert not any(path.startswith("source.") or path == "source" for path in articles | alerts)


def test_the_checks_catch_the_old_shapes() -> None:
    """The shapes before the alignment: a keyword ``url``, feed fields in ``source.*``, a text rule."""
    old_articles = {"url": "keyword", "source": "object", "source.tier": "keyword"}
    old_articles["source.domain"] = "keyword"
    old_alerts = {"url": "object", "url.full": "keyword", "rule.description": "text"}
    assert ecs_conflicts(old_articles) == [
        "url: keyword, ECS: no such field",
        "source.tier: keyword, ECS: no such field",
    ]
    assert ecs_conflicts(old_alerts) == ["rule.description: text, ECS: keyword"]
    assert cross_index_conflicts(old_articles, old_alerts) == ["url: keyword vs object"]
