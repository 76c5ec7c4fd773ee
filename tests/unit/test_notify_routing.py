from typing import Any

import pytest

from connectors.notify.routing import countries, matches
from schemas.alert import AlertDoc
from schemas.notify import Route

KIM = {"id": "person:kim-jong-un", "name": "Kim Jong Un", "type": "person", "country": "PRK"}
USA = {"id": "USA", "name": "United States", "type": "country", "country": "USA"}


def _alert(**watchfloor: Any) -> AlertDoc:
    details: dict[str, Any] = {
        "alert_id": "a1",
        "story_id": "st-1",
        "topic": "arms_transfer",
        "revision": 1,
        "severity": "high",
        "score": 70,
        "headline": "Kim Jong Un may travel to Russia for arms talks, US says",
        "first_seen": "2026-05-04T06:00:00Z",
        "last_seen": "2026-05-04T06:00:00Z",
        "articles": 1,
        "sources": ["wire-global"],
        "source_count": 1,
        "independent_sources": 1,
        "tiers": ["wire"],
        "actor_ids": ["person:kim-jong-un", "USA"],
        "actors": [KIM, USA],
        "reason": "new_story",
    } | watchfloor
    return AlertDoc.model_validate(
        {
            "@timestamp": "2026-05-04T06:00:00Z",
            "message": "m",
            "event": {"severity": 70, "created": "2026-05-04T06:00:00Z", "id": "a1"},
            "rule": {"name": "arms_transfer", "category": "military", "id": "arms_transfer"},
            "watchfloor": details,
        }
    )


def test_the_default_route_matches_everything() -> None:
    assert matches(Route(), _alert(severity="low"))


def test_topics() -> None:
    assert matches(Route(topics=("sanctions", "arms_transfer")), _alert())
    assert not matches(Route(topics=("sanctions",)), _alert())


@pytest.mark.parametrize(
    ("floor", "expected"), [("low", True), ("medium", True), ("high", True), ("critical", False)]
)
def test_min_severity_is_inclusive(floor: str, expected: bool) -> None:
    assert matches(Route.model_validate({"min_severity": floor}), _alert(severity="high")) is expected


def test_actors_any_of() -> None:
    assert matches(Route(actors=("person:vladimir-putin", "person:kim-jong-un")), _alert())
    assert not matches(Route(actors=("person:vladimir-putin",)), _alert())
    assert not matches(Route(actors=("PRK",)), _alert())  # a person is not their country's actor id


def test_countries_involved_are_country_actors_and_persons_countries() -> None:
    assert countries(_alert()) == {"PRK", "USA"}
    assert matches(Route(countries=("USA",)), _alert())  # a country actor
    assert matches(Route(countries=("PRK",)), _alert())  # through Kim Jong Un
    assert not matches(Route(countries=("RUS", "CHN")), _alert())


def test_a_person_without_a_country_involves_none() -> None:
    stateless = {"id": "person:x", "name": "X", "type": "person"}
    alert = _alert(actors=[stateless], actor_ids=["person:x"])
    assert countries(alert) == set()
    assert not matches(Route(countries=("PRK",)), alert)


def test_tiers_any_of() -> None:
    assert matches(Route(tiers=("state", "wire")), _alert())
    assert not matches(Route(tiers=("state",)), _alert())


def test_every_given_condition_must_hold() -> None:
    route = Route(
        topics=("arms_transfer",),
        min_severity="medium",
        actors=("person:kim-jong-un",),
        countries=("PRK",),
        tiers=("wire",),
    )
    assert matches(route, _alert())
    assert not matches(route, _alert(severity="low"))
    assert not matches(route, _alert(topic="sanctions"))
    assert not matches(route, _alert(tiers=["regional"]))
    assert not matches(route, _alert(actors=[USA], actor_ids=["USA"]))
