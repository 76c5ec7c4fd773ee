"""Alert documents for the notifier's tests and bench, built by the pipeline's own alert builder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.alerting import build_alert
from pipeline.scoring import SeverityScore
from pipeline.stories import StoryView, TopicFact
from schemas.alert import AlertDoc
from schemas.article import ActorRef

SECRET = (
    "whsec_" + "dGVzdC1zaWduaW5nLWtleS1mb3Itd2F0Y2hmbG9vcg=="
)  # base64("test-signing-key-for-watchfloor")
SCORES = {"low": 30, "medium": 50, "high": 70, "critical": 90}


OUTLETS = ("wire-global", "asia-monitor", "daily-courier", "meridian-news", "north-desk", "south-desk")


def alert(
    n: int,
    severity: str = "high",
    story: str | None = None,
    topic: str = "arms_transfer",
    *,
    revision: int = 1,
    reason: str = "new_story",
    independent: int = 1,
    modality: str | None = "planned_or_possible",
    actors: tuple[ActorRef, ...] = (),
) -> AlertDoc:
    """Alert `n` (issued n minutes into the test day) of a story three outlets carry, one of them
    independently; `independent` > 1 adds further outlets that reported it in their own words, and
    `actors` adds to North Korea and Kim Jong Un."""
    now = datetime(2026, 11, 28, 4, 0, tzinfo=UTC) + timedelta(minutes=n)
    sources = tuple(sorted({"asia-monitor", "daily-courier", *OUTLETS[:independent]}))
    view = StoryView(
        story_id=story or f"st-{n:020d}",
        headline=f"Kim Jong Un may travel to Russia for arms talks ({n})",
        url=f"https://wire-global.example/news/{n}",
        first_seen=now,
        last_seen=now,
        articles=3,
        sources=sources,
        independent_sources=OUTLETS[:independent],
        tiers=("national", "regional", "wire"),
        topics=(),
        actors=(
            ActorRef(id="PRK", name="North Korea", type="country", country="PRK"),
            ActorRef(id="person:kim-jong-un", name="Kim Jong Un", type="person", country="PRK"),
            *actors,
        ),
    )
    fact = TopicFact(topic, "military", 8.0, 3.0, modality, f"a-{n}", {"arithmetic": "3+3+2 = 8"})
    score = SeverityScore(SCORES[severity], severity, {"topic": 0.55}, "100 * 0.55 ...")  # type: ignore[arg-type]
    return build_alert(view, fact, score, revision=revision, reason=reason, now=now)
