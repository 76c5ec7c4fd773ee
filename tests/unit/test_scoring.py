"""Severity factors; every expected number is worked out by hand from the formula in pipeline/scoring.py."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.scoring import SEVERITIES, ScoringParams, Watchlist, band, score_topic
from pipeline.stories import StoryView, TopicFact
from schemas.article import ActorRef

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

WATCHLIST = Watchlist({"PRK": 1.6, "RUS": 1.4, "person:vladimir-putin": 1.5})


def _actor(actor_id: str) -> ActorRef:
    return ActorRef(id=actor_id, name=actor_id, type="country")


def _fact(score: float = 6.0, threshold: float = 3.0) -> TopicFact:
    return TopicFact("arms_transfer", "military", score, threshold, None, "a1", {})


def _story(
    *, actors: tuple[str, ...] = (), independent: int = 1, first_seen: datetime = T0, sources: int = 0
) -> StoryView:
    indep = tuple(f"src-{i}" for i in range(independent))
    return StoryView(
        story_id="st-1",
        headline="Kim may travel to Russia",
        url=None,
        first_seen=first_seen,
        last_seen=first_seen,
        articles=max(1, sources, independent),
        sources=indep + tuple(f"copy-{i}" for i in range(sources)),
        independent_sources=indep,
        tiers=("wire",),
        topics=(_fact(),),
        actors=tuple(_actor(a) for a in actors),
    )


def _score(
    fact: TopicFact | None = None,
    story: StoryView | None = None,
    *,
    weight: float = 0.5,
    now: datetime = T0,
    params: ScoringParams = ScoringParams(),
) -> tuple[int, dict[str, float]]:
    s = score_topic(
        fact or _fact(),
        topic_weight=weight,
        story=story or _story(),
        now=now,
        watchlist=WATCHLIST,
        params=params,
    )
    return s.score, s.factors


def test_baseline_is_one_hundred_times_the_topic_weight() -> None:
    # No listed actor, one source, fresh, score at twice the threshold: every factor is 1.
    score, factors = _score(weight=0.55)
    assert factors == {
        "topic": 0.55, "actors": 1.0, "corroboration": 1.0, "novelty": 1.0, "confidence": 1.0, "breaking": 1.0
    }  # fmt: skip
    assert score == 55


def test_actor_factor_is_the_largest_watch_list_weight_among_the_story_actors() -> None:
    score, factors = _score(story=_story(actors=("RUS", "USA", "PRK", "person:vladimir-putin")))
    assert factors["actors"] == 1.6
    assert score == 80  # 100 * 0.5 * 1.6
    assert WATCHLIST.factor(["USA", "RUS"]) == (1.4, "RUS")
    assert WATCHLIST.factor(["USA", "FRA"]) == (1.0, None)
    assert WATCHLIST.factor([]) == (1.0, None)


def test_corroboration_adds_a_step_per_independent_source_beyond_the_first() -> None:
    assert _score(story=_story(independent=2))[1]["corroboration"] == pytest.approx(1.15)
    score, factors = _score(story=_story(independent=3))
    assert factors["corroboration"] == pytest.approx(1.3)
    assert score == 65  # 100 * 0.5 * 1.3


def test_corroboration_is_capped_and_syndicated_copies_do_not_count() -> None:
    # Cap 5 sources: 1 + 0.15 * 4 = 1.6, however many independent sources there are.
    assert _score(story=_story(independent=5))[1]["corroboration"] == pytest.approx(1.6)
    assert _score(story=_story(independent=9))[1]["corroboration"] == pytest.approx(1.6)
    # Ten syndicated copies of one wire story: still one independent source.
    assert _score(story=_story(independent=1, sources=10))[1]["corroboration"] == 1.0
    # A story whose every article is syndicated still counts as one source, not zero.
    assert _score(story=_story(independent=0, sources=3))[1]["corroboration"] == 1.0


def test_corroboration_parameters_are_honoured() -> None:
    params = ScoringParams(corroboration_step=0.25, corroboration_cap=3)
    # min(4, 3) - 1 = 2 steps of 0.25
    assert _score(story=_story(independent=4), params=params)[1]["corroboration"] == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("age", "novelty"),
    [
        (timedelta(0), 1.0),
        (timedelta(hours=6), 1.0),  # still fresh at `fresh`
        (timedelta(hours=39), 0.8),  # halfway from 6 h to 72 h: 1 - 0.4 * 0.5
        (timedelta(hours=22, minutes=30), 0.9),  # a quarter of the way: 1 - 0.4 * 0.25
        (timedelta(hours=72), 0.6),  # stale_factor at `stale`
        (timedelta(days=10), 0.6),  # and never lower
        (timedelta(hours=-3), 1.0),  # an article dated before the story's first (clock skew)
    ],
)
def test_novelty_falls_linearly_from_fresh_to_stale(age: timedelta, novelty: float) -> None:
    assert _score(now=T0 + age)[1]["novelty"] == pytest.approx(novelty)


def test_novelty_feeds_the_score() -> None:
    assert _score(weight=0.5, now=T0 + timedelta(hours=39))[0] == 40  # 100 * 0.5 * 0.8


@pytest.mark.parametrize(
    ("score", "threshold", "confidence"),
    [
        (3.0, 3.0, 0.85),  # at the threshold
        (4.5, 3.0, 0.925),  # 1.5 times: 0.85 + 0.15 * 0.5
        (6.0, 3.0, 1.0),  # twice
        (19.0, 3.0, 1.0),  # capped at twice
        (1.0, 3.0, 0.85),  # below the threshold (should not happen) is floored, not negative
    ],
)
def test_confidence_grows_with_how_far_the_score_clears_the_threshold(
    score: float, threshold: float, confidence: float
) -> None:
    assert _score(_fact(score, threshold))[1]["confidence"] == pytest.approx(confidence)


def test_all_factors_multiply() -> None:
    # 100 * 0.55 * 1.6 (PRK) * 1.3 (3 independent) * 0.8 (39 h old) * 0.925 (score 1.5x threshold)
    # = 88 * 1.3 * 0.8 * 0.925 = 84.656 -> 85
    severity = score_topic(
        _fact(4.5, 3.0),
        topic_weight=0.55,
        story=_story(actors=("PRK", "USA"), independent=3),
        now=T0 + timedelta(hours=39),
        watchlist=WATCHLIST,
    )
    assert severity.score == 85
    assert severity.label == "critical"
    assert severity.rank == SEVERITIES.index("critical")
    assert "(PRK)" in severity.arithmetic
    assert "3 independent" in severity.arithmetic
    assert severity.arithmetic.endswith("= 84.7 → 85")


def test_score_is_capped_at_100() -> None:
    # 100 * 0.55 * 1.6 * 1.6 = 140.8
    score, _ = _score(story=_story(actors=("PRK",), independent=5), weight=0.55)
    assert score == 100


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0, "low"),
        (39, "low"),
        (40, "medium"),
        (64, "medium"),
        (65, "high"),
        (84, "high"),
        (85, "critical"),
        (100, "critical"),
    ],
)
def test_bands(score: int, label: str) -> None:
    assert band(score) == label


def test_severities_are_ordered_low_to_critical() -> None:
    assert SEVERITIES == ("low", "medium", "high", "critical")


def test_watchlist_load_reads_the_deployed_list() -> None:
    watchlist = Watchlist.load(DEPLOY / "watchlist.yaml")
    assert watchlist.weights["PRK"] == 1.6
    assert all(w >= 1 for w in watchlist.weights.values())


def test_watchlist_load_rejects_weights_below_one(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.yaml"
    path.write_text("actors:\n  PRK: 1.6\n  FRA: 0.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="FRA"):
        Watchlist.load(path)


def test_watchlist_load_accepts_an_empty_file_and_a_weight_of_exactly_one(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert Watchlist.load(empty).weights == {}
    one = tmp_path / "one.yaml"
    one.write_text("actors:\n  FRA: 1\n", encoding="utf-8")
    watchlist = Watchlist.load(one)
    assert watchlist.weights == {"FRA": 1.0}
    assert watchlist.factor(["FRA"]) == (1.0, None)


def test_breaking_raises_the_score_for_a_while_then_wears_off() -> None:
    from dataclasses import replace

    from pipeline.breaking import Surge

    surge = Surge(sources=4, window_s=3600, baseline=1.0, kind="leader_visit|*", at=T0)
    breaking = replace(_story(), surge=surge)
    score, factors = _score(story=breaking, weight=0.5, now=T0 + timedelta(hours=1))
    assert factors["breaking"] == 1.25 and score == round(0.5 * 100 * 1.25)
    _, later = _score(
        story=breaking, weight=0.5, now=T0 + ScoringParams().breaking_for + timedelta(minutes=1)
    )
    assert later["breaking"] == 1.0
