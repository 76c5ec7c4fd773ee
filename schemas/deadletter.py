"""The dead-letter record: every input Watchfloor could not process, with the reason, never dropped."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

MAX_PAYLOAD_CHARS = 64_000


class DeadLetter(BaseModel):
    """One rejected input. ``origin`` says where it came from (topic/partition/offset, feed id, doc id)."""

    stage: str = Field(description="The step that rejected it, e.g. DecodeItems or WriteArticles.")
    reason: str = Field(description="Why, readable by an operator.")
    origin: str
    payload: str = Field(description="The input as text (truncated to MAX_PAYLOAD_CHARS).")
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    tag: Any = Field(default=None, exclude=True, description="In-process only: the write receipt it settles.")

    @property
    def key(self) -> str:
        """Deterministic per (stage, origin): a replayed failure carries the same key, so readers can tell a
        repeat from a new failure (the topic is not compacted; repeats stay until retention drops them)."""
        return hashlib.sha256(f"{self.stage}\x00{self.origin}".encode()).hexdigest()[:32]

    @classmethod
    def of(
        cls, stage: str, reason: str, origin: str, payload: bytes | str | None, tag: Any = None
    ) -> DeadLetter:
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else (payload or "")
        return cls(stage=stage, reason=reason, origin=origin, payload=text[:MAX_PAYLOAD_CHARS], tag=tag)


def describe_validation(exc: ValidationError, root: str = "<root>", limit: int | None = None) -> str:
    """An operator-readable reason: "field.path: message; …" (`root` names errors of the whole input).
    A validator's own message is shown without the "Value error, " pydantic puts before it."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or root}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()[:limit]
    )
