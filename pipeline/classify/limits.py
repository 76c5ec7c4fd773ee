"""What one article may cost the classifier and the index, however large or repetitive it is.

A 10 MB article used to take a minute and a gigabyte to classify, and its explanation listed every cue
and term hit (166,668 "may" cues, ≈ 49 MB per topic), printed by `watchfloor classify` and indexed by
the pipeline. Classification reads the title and the start of the text (an article's lead carries its
event), and an explanation lists the first spans of each contribution and clause and counts the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

TITLE_CHARS = 2_000
"""Of a title, what classification reads (a real headline is far shorter)."""
TEXT_CHARS = 30_000
"""Of a body, what classification reads: about 5,000 words, more than nearly any news article."""
SPANS_SHOWN = 5
"""Spans an explanation lists per contribution or clause; `spans_not_shown` counts the others."""
CUES_SHOWN = 10
"""Modality cues an explanation lists per topic; `cues_not_shown` counts the others."""


def head(text: str, limit: int) -> str:
    """The first `limit` characters of `text`, ended at the last whitespace among them when there is one
    in their second half, so no word is cut in two."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(space, limit // 2, limit + 1) for space in " \n\t")
    return text[: cut if cut > 0 else limit]


def shown(items: Sequence[T], limit: int) -> tuple[tuple[T, ...], int]:
    """The first `limit` items and how many more there were."""
    return tuple(items[:limit]), max(0, len(items) - limit)


def clipped(kept: dict[str, str], whole: dict[str, str]) -> dict[str, str]:
    """Per field cut short, what of it was kept: the note an explanation carries."""
    return {
        name: f"first {len(kept[name])} of {len(text)} characters"
        for name, text in whole.items()
        if len(kept[name]) < len(text)
    }
