"""A feed's polling state: what a restarted or relocated ingester needs to carry on without loss.

Stored in the compacted Kafka topic ``watchfloor.state`` under key ``feed:<id>``, so any ingest process
on any host can take a feed over.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

RECENT_IDS = 1000  # item ids remembered per feed (a busy feed carries 50 to 100 entries)
RECENT_LINKS = 300  # link → guid pairs remembered to notice GUIDs that change on every fetch


class FeedState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feed_id: str
    url: str = Field(description="Where to poll: the registry URL, or the target of a permanent redirect.")
    etag: str | None = None
    last_modified: str | None = None
    next_due: AwareDatetime
    interval_s: float
    consecutive_failures: int = 0
    last_attempt: AwareDatetime | None = None
    last_success: AwareDatetime | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    last_new_item: AwareDatetime | None = None
    mean_gap_s: float | None = Field(default=None, description="EWMA of the time between new items.")
    items_total: int = 0
    recent_ids: list[str] = Field(default_factory=list, description="Newest last, at most RECENT_IDS.")
    link_guids: dict[str, str] = Field(default_factory=dict, description="Recent canonical link → GUID.")
    guid_unstable: bool = False
    disabled_reason: str | None = None

    @property
    def key(self) -> str:
        return f"feed:{self.feed_id}"

    def items_per_day(self) -> float | None:
        return 86400.0 / self.mean_gap_s if self.mean_gap_s else None

    def is_silent(self, now: datetime, factor: float = 6.0, floor_s: float = 6 * 3600) -> bool:
        """Nothing new for far longer than this feed's usual cadence (and at least ``floor_s``)."""
        if self.last_new_item is None or self.mean_gap_s is None:
            return False
        return (now - self.last_new_item).total_seconds() > max(factor * self.mean_gap_s, floor_s)
