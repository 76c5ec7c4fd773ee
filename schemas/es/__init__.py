"""Elasticsearch index templates (composable ``_index_template`` bodies), core field types only:
the local integ-test node has no mapper-extras, analysis-common or data streams."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ARTICLES_INDEX = "watchfloor-articles"
ALERTS_INDEX = "watchfloor-alerts"
_HERE = Path(__file__).parent


def templates() -> dict[str, dict[str, Any]]:
    """Template name -> body, one per JSON file beside this module."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(_HERE.glob("*.json"))}
