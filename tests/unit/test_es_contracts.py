"""The document models and the index templates are written separately; they must agree field for field."""

from datetime import UTC, datetime

from pydantic import BaseModel

from schemas.alert import AlertDoc
from schemas.article import ArticleDetails, ArticleDoc, FeedRef, alert_id, story_id_for
from schemas.es import templates
from schemas.feed import SourceTier


def _model_leaves(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted leaf paths of a document model; a (list of) nested model is an object."""
    out = set()
    for name, field in model.model_fields.items():
        key = field.alias or name
        ann = field.annotation
        args = getattr(ann, "__args__", (ann,))
        args = [inner for a in args for inner in getattr(a, "__args__", (a,))]  # list[Model] -> Model
        inner = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        out |= _model_leaves(inner[0], f"{prefix}{key}.") if inner else {f"{prefix}{key}"}
    return out


def test_article_model_fields_are_exactly_the_template_properties() -> None:
    props = templates()["articles"]["template"]["mappings"]["properties"]
    assert _model_leaves(ArticleDoc) == _leaves(props)


def test_article_document_uses_ecs_timestamp_and_drops_nones() -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    doc = ArticleDoc(
        timestamp=now,
        article_id="a",
        story_id="st-x",
        title="t",
        language="en",
        fetched=now,
        content_hash="h",
        watchfloor=ArticleDetails(feed=FeedRef(id="f", name="F", tier=SourceTier.WIRE, domain="f.example")),
    ).to_es()
    assert doc["@timestamp"] == "2026-11-28T00:00:00Z"
    assert "published" not in doc and "timestamp" not in doc


def test_templates_target_our_index_names_and_use_core_types_only() -> None:
    core = {"date", "keyword", "text", "float", "long", "integer", "boolean", "object", None}

    def types(props: dict) -> set:
        found = set()
        for spec in props.values():
            found.add(spec.get("type"))
            found |= types(spec.get("properties", {}))
            found |= types(spec.get("fields", {}))
        return found

    for name, body in templates().items():
        assert body["index_patterns"] == [f"watchfloor-{name}*"]
        assert types(body["template"]["mappings"]["properties"]) <= core, name


def test_ids_are_deterministic_and_distinct() -> None:
    assert alert_id("st-1", "arms_transfer", 1) == alert_id("st-1", "arms_transfer", 1)
    assert (
        len(
            {
                alert_id("st-1", "arms_transfer", 1),
                alert_id("st-1", "arms_transfer", 2),
                alert_id("st-1", "leader_visit", 1),
            }
        )
        == 3
    )
    assert story_id_for("a1").startswith("st-") and story_id_for("a1") != story_id_for("a2")


def _leaves(props: dict, prefix: str = "") -> set[str]:
    out = set()
    for name, spec in props.items():
        inner = spec.get("properties")
        out |= _leaves(inner, f"{prefix}{name}.") if inner else {f"{prefix}{name}"}
    return out


def test_alert_model_fields_are_exactly_the_template_properties() -> None:
    assert _model_leaves(AlertDoc) == _leaves(templates()["alerts"]["template"]["mappings"]["properties"])
