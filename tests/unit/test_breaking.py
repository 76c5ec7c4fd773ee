from datetime import UTC, datetime, timedelta

from pipeline.breaking import BreakingParams, SurgeDetector, kinds

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
P = BreakingParams()
VISIT = kinds(["leader_visit"], ["PRK", "RUS"], P)


def _minutes(*offsets: int) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in offsets]


def test_kinds_are_topic_by_actor_and_topic_by_any_actor() -> None:
    assert VISIT == ["leader_visit|*", "leader_visit|PRK", "leader_visit|RUS"]
    assert len(kinds(["a", "b"], ["X", "Y", "Z", "W"], P)) == 2 * (1 + P.max_actors)


def test_three_sources_within_the_hour_on_a_quiet_kind_of_news_is_breaking() -> None:
    detector = SurgeDetector(P)
    assert detector.observe(VISIT, _minutes(0), T0) is None
    assert detector.observe(VISIT, _minutes(0, 10), T0 + timedelta(minutes=10)) is None
    surge = detector.observe(VISIT, _minutes(0, 10, 20), T0 + timedelta(minutes=20))
    assert surge is not None
    assert (surge.sources, surge.window_s) == (3, 3600)
    assert surge.baseline < 3 / P.factor
    assert "3 independent sources within 60 min" in surge.describe()


def test_the_same_pace_spread_over_hours_is_not_breaking() -> None:
    detector = SurgeDetector(P)
    arrivals = _minutes(0, 70, 140, 210)
    for n in range(1, len(arrivals) + 1):
        assert detector.observe(VISIT, arrivals[:n], arrivals[n - 1]) is None


def test_a_kind_of_news_that_is_always_busy_needs_more_to_be_breaking() -> None:
    busy = SurgeDetector(P)
    for story in range(30):  # thirty earlier stories of this kind, each with four sources in its hour
        start = T0 - timedelta(days=3) + timedelta(hours=2 * story)
        busy.observe(
            VISIT, [start + timedelta(minutes=m) for m in (0, 5, 10, 15)], start + timedelta(minutes=15)
        )
    three = busy.observe(VISIT, _minutes(0, 10, 20), T0 + timedelta(minutes=20))
    assert three is None, "three sources an hour is what this kind of news usually gets"
    quiet = SurgeDetector(P).observe(
        kinds(["sanctions"], ["NOR"], P), _minutes(0, 10, 20), T0 + timedelta(minutes=20)
    )
    assert quiet is not None and quiet.kind == "sanctions|*"
