"""Watchfloor's contracts as JSON Schemas (draft 2020-12), for consumers that are not Python.

Files people write are exported in validation mode (what the loader accepts), documents the system emits
in serialization mode (what a reader receives). ``watchfloor schemas export`` writes them to
``schemas/json/``; a unit test fails when the committed files differ from this table's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from schemas.alert import AlertDoc
from schemas.article import ArticleDoc
from schemas.deadletter import DeadLetter
from schemas.feed import RegistryFile
from schemas.feedstate import FeedState
from schemas.gazetteer import GazetteerFile
from schemas.item import FeedItem
from schemas.notify import NotifyConfig
from schemas.opsalert import OpsAlert
from schemas.rules import Rule

DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True, slots=True)
class Contract:
    name: str
    model: type[BaseModel]
    mode: JsonSchemaMode
    description: str

    @property
    def file_name(self) -> str:
        return f"{self.name}.schema.json"


CONTRACTS: Final[tuple[Contract, ...]] = (
    Contract(
        "feed-item",
        FeedItem,
        "serialization",
        "Value of Kafka topic watchfloor.items (key = item_id, header schema-version).",
    ),
    Contract(
        "feed-registry",
        RegistryFile,
        "validation",
        "A feed registry file, deploy/feeds/*.yaml: a mapping whose 'feeds' list holds one entry per feed.",
    ),
    Contract(
        "ops-alert",
        OpsAlert,
        "serialization",
        "Value of Kafka topic watchfloor.ops-alerts (key = ops_id): a source silent or failing, or cleared.",
    ),
    Contract(
        "feed-state",
        FeedState,
        "serialization",
        "Value of key feed:<id> on the compacted Kafka topic watchfloor.state.",
    ),
    Contract(
        "dead-letter",
        DeadLetter,
        "serialization",
        "Value on Kafka topic watchfloor.dead-letters (key = sha256 of stage and origin, hex[:32]).",
    ),
    Contract(
        "article",
        ArticleDoc,
        "serialization",
        "Document in Elasticsearch index watchfloor-articles (_id = article_id); None fields are omitted.",
    ),
    Contract(
        "alert",
        AlertDoc,
        "serialization",
        "Document in Elasticsearch index watchfloor-alerts (_id = alert_id) and value on Kafka topic "
        "watchfloor.alerts (key = story_id); None fields are omitted.",
    ),
    Contract(
        "rule",
        Rule,
        "validation",
        "One topic rule pack file, deploy/rules/*.yaml (a term may be a bare pattern string).",
    ),
    Contract(
        "notify-config",
        NotifyConfig,
        "validation",
        "The notifier configuration, deploy/notify.yaml.",
    ),
    Contract(
        "gazetteer",
        GazetteerFile,
        "validation",
        "One actor gazetteer file, deploy/gazetteer/*.yaml; the files merge into one gazetteer.",
    ),
)

_BY_NAME: Final = {c.name: c for c in CONTRACTS}


def contract(name: str) -> Contract:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown contract {name!r}; known: {sorted(_BY_NAME)}") from None


def json_schema(name: str) -> dict[str, Any]:
    """The contract's schema, with the draft, an ``$id`` equal to its file name, and our title/description."""
    c = contract(name)
    schema = c.model.model_json_schema(mode=c.mode, by_alias=True)
    return {
        "$schema": DRAFT,
        "$id": c.file_name,
        **schema,
        "title": c.name,
        "description": c.description,
    }


def render(name: str) -> str:
    """The exported file's exact text: stable key order and a final newline, so diffs stay readable."""
    return json.dumps(json_schema(name), indent=2, sort_keys=True) + "\n"
