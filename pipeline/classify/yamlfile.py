"""The rule packs' and gazetteer's YAML, read with libyaml's C loader where PyYAML has it: the gazetteer
holds thousands of aliases, and the pure-Python loader was most of a classifier's build time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """A YAML file's data, as `yaml.safe_load` reads it."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
