"""Exceptions as one line an operator can act on, for CLI errors and registry reports.

pydantic's report spans lines and ends each error with a documentation link; a YAML error draws the
offending line with a caret; an OSError repeats its errno. Each becomes one line with what to fix.
"""

from __future__ import annotations

import yaml
from pydantic import ValidationError

from schemas.deadletter import describe_validation


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def describe(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return f"invalid {exc.title}: {describe_validation(exc)}"
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return one_line(f"not valid YAML: {exc.problem} (line {mark.line + 1}, column {mark.column + 1})")
    if isinstance(exc, yaml.YAMLError):
        return one_line(f"not valid YAML: {exc}")
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return one_line(exc)
