"""Generate docs/configuration.md from the settings and notifier models; never edit that file by hand.

    .venv/bin/python docs/gen_config.py > docs/configuration.md

tests/unit/test_config_docs.py fails when the committed file differs from this script's output, so a
new or changed setting cannot reach the repository without its documentation.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make `schemas` importable
    sys.path.insert(0, str(REPO))

from schemas import notify, settings  # noqa: E402

SETTINGS: tuple[type[BaseSettings], ...] = (
    settings.LogSettings,
    settings.StackSettings,
    settings.IngestSettings,
    settings.PipelineSettings,
    settings.NotifySettings,
)
NOTIFY: tuple[tuple[str, type[BaseModel]], ...] = (
    ("top level", notify.NotifyConfig),
    ("`destinations[]`", notify.Destination),
    ("`destinations[].route`", notify.Route),
    ("`destinations[].digest`", notify.Digest),
)
COMMANDS = {
    "LogSettings": "`watchfloor ingest`, `pipeline run`, `notify` and `smoke`",
    "StackSettings": "`watchfloor stack …`, and the Kafka/Elasticsearch addresses every job uses",
    "IngestSettings": "`watchfloor ingest`, `watchfloor feeds …`",
    "PipelineSettings": "`watchfloor pipeline run`",
    "NotifySettings": "`watchfloor notify`, `watchfloor alerts …`",
}
# Defaults computed when the process starts (they depend on the machine), described instead of shown.
COMPUTED = {
    "_default_cache_dir": "`~/.cache/watchfloor`",
    "_bundled_feeds": "the bundled `deploy/feeds`",
    "_bundled_rules": "the bundled `deploy`",
    "_bundled_notify": "the bundled `deploy/notify.yaml`",
}


def type_name(annotation: Any) -> str:
    """A readable type: `Path | None`, `int`, `"webhook" | "slack"`, `tuple[str, ...]`."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in get_args(annotation))
    if origin is Literal:
        return " | ".join(f'"{a}"' for a in get_args(annotation))
    if origin is not None:
        args = ", ".join("..." if a is Ellipsis else type_name(a) for a in get_args(annotation))
        return f"{origin.__name__}[{args}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        name = getattr(info.default_factory, "__name__", "")
        return COMPUTED.get(name, "computed at start-up")
    if info.default is PydanticUndefined:
        return "required"
    value = info.default
    if value is None:
        return "unset"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, BaseModel):
        return "all defaults" if value.model_dump(exclude_defaults=True) == {} else f"`{value!r}`"
    if isinstance(value, tuple) and not value:
        return "`[]`"
    return f"`{value}`"


def constraints(info: FieldInfo) -> str:
    marks = (
        (Ge, "ge", "≥ {}"),
        (Gt, "gt", "> {}"),
        (Le, "le", "≤ {}"),
        (Lt, "lt", "< {}"),
        (MinLen, "min_length", "at least {} entries"),
        (MaxLen, "max_length", "at most {} entries"),
    )
    found = []
    for item in info.metadata:
        if isinstance(item, MinLen) and item.min_length == 1:
            found.append("not empty")
            continue
        found += [text.format(getattr(item, attr)) for kind, attr, text in marks if isinstance(item, kind)]
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            found.append(f"matches `{pattern}`")
    return ", ".join(found)


def cell(text: str) -> str:
    """Safe inside a Markdown table cell: no column breaks, no HTML tags."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def describe(info: FieldInfo) -> str:
    text = cell((info.description or "").strip())
    limits = constraints(info)
    if limits:
        text = f"{text} ({limits})" if text else limits.capitalize()
    return text or "—"


def row(label: str, info: FieldInfo) -> tuple[str, str, str, str]:
    return f"`{label}`", f"`{cell(type_name(info.annotation))}`", default_text(info), describe(info)


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def settings_section(model: type[BaseSettings]) -> list[str]:
    prefix = str(model.model_config.get("env_prefix", ""))
    doc = " ".join((model.__doc__ or "").split())
    lines = [
        f"## `{model.__name__}` — `{prefix}*`",
        "",
        f"{doc} Read by {COMMANDS.get(model.__name__, 'the jobs')}.",
        "",
    ]
    rows = [row(f"{prefix}{name.upper()}", info) for name, info in model.model_fields.items()]
    return [*lines, *table(("variable", "type", "default", "description"), rows), ""]


def notify_section() -> list[str]:
    lines = [
        "## Notifier destinations file (`WATCHFLOOR_NOTIFY_CONFIG`, default: bundled `deploy/notify.yaml`)",
        "",
        "YAML validated by `schemas/notify.py` when `watchfloor notify` starts (unknown keys are errors).",
        "Secrets are never in the file: a destination names the environment variables holding them.",
        "",
    ]
    for where, model in NOTIFY:
        doc = " ".join((model.__doc__ or "").split())
        lines += [f"### {where} (`{model.__name__}`)", ""]
        if doc:
            lines += [doc, ""]
        rows = [row(name, info) for name, info in model.model_fields.items()]
        lines += [*table(("key", "type", "default", "description"), rows), ""]
    return lines


def render() -> str:
    lines = [
        "# Configuration",
        "",
        "<!-- Generated by docs/gen_config.py from schemas/settings.py and schemas/notify.py; do not edit.",
        "     Regenerate: .venv/bin/python docs/gen_config.py > docs/configuration.md -->",
        "",
        "Every setting is an environment variable, read once when a command starts (pydantic-settings;",
        "names are case-insensitive, and values are parsed to the type shown). Jobs ignore variables of",
        "other prefixes. Ports and paths apply to the local stack; topic and index names let several",
        "deployments or test runs share one cluster.",
        "",
        '"The bundled" data is the repository\'s `deploy/`: read in place in a checkout, and shipped in the',
        "wheel as `watchfloor_data/` beside the packages, so an installed `watchfloor` needs no checkout.",
        "",
    ]
    for model in SETTINGS:
        lines += settings_section(model)
    lines += notify_section()
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
