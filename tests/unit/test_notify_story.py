"""Story granularity without Kafka: what a destination remembers about a story, what counts as a material
change (connectors/notify/story.py), and the per-story holds that coalesce a story's alerts
(connectors/notify/coalesce.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from connectors.notify.coalesce import Holds
from connectors.notify.story import StoryState, decide, fold
from schemas.alert import AlertDoc, AlertSurge
from schemas.article import ActorRef
from tests.support.alerts import alert

STORY = "st-kim-putin"
NOW = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
SHOIGU = ActorRef(id="person:sergei-shoigu", name="Sergei Shoigu", type="person", country="RUS")


def _fold(state: StoryState | None, alerts: Iterable[AlertDoc]) -> StoryState:
    for a in alerts:
        state = fold(state, a, NOW)
    assert state is not None
    return state


def _told(*alerts: AlertDoc) -> StoryState:
    """The story as a destination was told it in one delivered message."""
    return _fold(None, alerts).delivered()


def _kinds(state: StoryState) -> list[str]:
    return [c.kind for c in state.changes()]


ARMS = alert(1, "high", STORY, "arms_transfer")
VISIT = alert(1, "medium", STORY, "leader_visit")


# --- what is remembered -----------------------------------------------------------------------------


def test_a_story_folds_every_topic_into_one_state() -> None:
    state = _fold(None, [ARMS, VISIT])
    assert sorted(state.topics) == ["arms_transfer", "leader_visit"]
    assert state.topics["arms_transfer"].alert_id == ARMS.watchfloor.alert_id
    assert state.topics["leader_visit"].severity == "medium"
    assert state.severity == "high"  # the story's is its highest topic's
    assert [a.name for a in state.actors] == ["North Korea", "Kim Jong Un"]
    assert (state.source_count, state.independent_sources) == (3, 1)
    assert state.updated == NOW


def test_the_latest_alert_speaks_for_the_story_whatever_order_they_come_in() -> None:
    later = alert(9, "high", STORY, "leader_visit", revision=2, reason="corroborated", independent=2)
    state = _fold(None, [later, ARMS])  # ARMS is about an earlier article
    assert state.headline == later.watchfloor.headline
    assert state.independent_sources == 2
    assert state.topics["arms_transfer"].revision == 1  # but its topic line is still taken


def test_a_revision_already_folded_is_known_and_a_later_one_is_not() -> None:
    state = _fold(None, [alert(1, story=STORY, revision=2, reason="new_actor")])
    assert state.knows(alert(1, story=STORY, revision=2, reason="new_actor"))
    assert state.knows(ARMS)  # revision 1 of the same topic: older than what is in
    assert not state.knows(alert(2, story=STORY, revision=3, reason="corroborated", independent=2))
    assert not state.knows(VISIT)  # another topic


def test_the_state_survives_its_json_round_trip() -> None:
    state = _told(ARMS, VISIT)
    again = StoryState.model_validate_json(state.model_dump_json())
    assert again == state
    assert again.changes() == []


def test_a_story_expires_after_the_ttl_since_its_last_alert() -> None:
    state = _fold(None, [ARMS])
    assert not state.expired(NOW + timedelta(hours=168), timedelta(hours=168))
    assert state.expired(NOW + timedelta(hours=168, seconds=1), timedelta(hours=168))


# --- material changes -------------------------------------------------------------------------------


def test_the_first_message_is_a_new_story_and_once_delivered_nothing_is_left_to_say() -> None:
    state = _fold(None, [ARMS, VISIT])
    assert _kinds(state) == ["new_story"]
    delivered = state.delivered()
    assert _kinds(delivered) == []
    assert delivered.told is not None and delivered.told.messages == 1


def test_a_new_actor_or_more_copies_are_remembered_but_not_material() -> None:
    told = _told(ARMS)
    # The pipeline's new_actor revision: Shoigu named, and a syndicated copy more (4 sources, 1 independent).
    update = alert(5, "high", STORY, "arms_transfer", revision=2, reason="new_actor", actors=(SHOIGU,))
    state = fold(told, update, NOW)
    assert _kinds(state) == []
    assert "Sergei Shoigu" in [a.name for a in state.actors]
    assert state.topics["arms_transfer"].revision == 2


def test_a_new_topic_is_material() -> None:
    state = fold(_told(ARMS), VISIT, NOW)
    assert [(c.kind, c.text) for c in state.changes()] == [("new_topic", "new topic leader_visit")]


def test_a_story_turning_breaking_is_material_once() -> None:
    surge = AlertSurge(sources=4, window_s=3600, baseline=1.0, ratio=4.0, kind="arms_transfer|*", at=NOW)
    base = alert(5, "high", STORY, "arms_transfer", revision=2, reason="breaking")
    breaking = base.model_copy(
        update={"watchfloor": base.watchfloor.model_copy(update={"surge": surge, "breaking": True})}
    )
    state = fold(_told(ARMS), breaking, NOW)
    assert _kinds(state) == ["breaking"]
    assert "4 independent sources within 60 min" in state.changes()[0].text
    later = alert(9, "high", STORY, "arms_transfer", revision=3, reason="new_actor", actors=(SHOIGU,))
    assert _kinds(fold(state.delivered(), later, NOW)) == [], "told once, it stays told"


def test_a_modality_change_is_material() -> None:
    actual = alert(5, "high", STORY, "arms_transfer", revision=2, reason="new_actor", modality="actual")
    state = fold(_told(ARMS), actual, NOW)
    assert [(c.kind, c.text) for c in state.changes()] == [
        ("modality", "arms_transfer now actual (was planned or possible)")
    ]


def test_the_story_reaching_a_higher_severity_is_material() -> None:
    up = alert(5, "critical", STORY, "arms_transfer", revision=2, reason="severity_up")
    state = fold(_told(ARMS, VISIT), up, NOW)
    assert [(c.kind, c.text) for c in state.changes()] == [("severity_up", "severity high → critical")]


def test_a_topic_rising_below_the_storys_severity_or_any_fall_is_not_material() -> None:
    told = _told(ARMS, VISIT)  # high and medium
    visit_up = alert(5, "high", STORY, "leader_visit", revision=2, reason="severity_up")
    assert _kinds(fold(told, visit_up, NOW)) == []
    arms_down = alert(6, "medium", STORY, "arms_transfer", revision=2, reason="new_actor")
    fallen = fold(told, arms_down, NOW)
    assert _kinds(fallen) == []
    back_up = alert(7, "high", STORY, "arms_transfer", revision=3, reason="severity_up")
    assert _kinds(fold(fallen, back_up, NOW)) == []  # high is what the destination was told


@pytest.mark.parametrize(
    ("told", "now", "material"),
    [(1, 2, True), (2, 3, True), (3, 4, False), (4, 5, True), (5, 6, False), (1, 4, True), (3, 3, False)],
)
def test_corroboration_is_material_when_it_reaches_2_3_or_5_independent_sources(
    told: int, now: int, material: bool
) -> None:
    before = _told(alert(1, "high", STORY, independent=told))
    state = fold(before, alert(5, "high", STORY, revision=2, reason="corroborated", independent=now), NOW)
    expected = [("corroborated", f"{now} independent sources (were {told})")] if material else []
    assert [(c.kind, c.text) for c in state.changes()] == expected


def test_several_changes_are_all_given() -> None:
    told = _told(ARMS)
    state = _fold(
        told,
        [
            VISIT,
            alert(5, "critical", STORY, "arms_transfer", revision=2, reason="severity_up", independent=2),
        ],
    )
    assert _kinds(state) == ["new_topic", "severity_up", "corroborated"]


def test_a_change_that_was_never_delivered_stays_material() -> None:
    """A dead-lettered message is not a baseline: the next alert, however small, carries its news."""
    undelivered = fold(_told(ARMS), VISIT, NOW)  # material, but its message failed: not delivered()
    quiet = alert(5, "high", STORY, "arms_transfer", revision=2, reason="new_actor", actors=(SHOIGU,))
    assert _kinds(fold(undelivered, quiet, NOW)) == ["new_topic"]


# --- what becomes of it ----------------------------------------------------------------------------


def test_a_material_change_is_sent_unless_the_story_is_below_the_digests_severity() -> None:
    state = _fold(None, [ARMS, VISIT])  # high
    assert decide(state, None) == ("send", state)
    assert decide(state, "high") == ("send", state)
    decision, waiting = decide(state, "critical")
    assert (decision, waiting.digest) == ("digested", True)


def test_nothing_material_is_neither_sent_nor_left_waiting_for_the_digest() -> None:
    told = _told(alert(1, "low", STORY))
    up = fold(told, alert(2, "medium", STORY, revision=2, reason="severity_up"), NOW)
    decision, waiting = decide(up, "high")
    assert (decision, waiting.digest) == ("digested", True)
    # The severity falls back before the digest goes: nothing is left to tell.
    down = fold(waiting, alert(3, "low", STORY, revision=3, reason="new_actor", actors=(SHOIGU,)), NOW)
    decision, after = decide(down, "high")
    assert (decision, after.digest) == ("not_material", False)


# --- message ids ------------------------------------------------------------------------------------


def test_the_message_id_depends_on_the_story_and_the_alert_revisions_it_shows() -> None:
    one_way = _fold(None, [ARMS, VISIT])
    other_way = _fold(None, [VISIT, ARMS])
    assert one_way.message_id == other_way.message_id  # same alerts, same id: a restart sends the same
    assert one_way.message_id.startswith("story-")
    assert one_way.delivered().message_id == one_way.message_id  # the id is of the content, not the baseline
    newer = fold(one_way, alert(5, "high", STORY, revision=2, reason="new_actor"), NOW)
    assert newer.message_id != one_way.message_id
    elsewhere = _fold(None, [alert(1, "high", "st-other"), alert(1, "medium", "st-other", "leader_visit")])
    assert elsewhere.message_id != one_way.message_id


# --- holds ------------------------------------------------------------------------------------------


def test_a_storys_alerts_within_the_hold_are_released_together_at_its_deadline() -> None:
    holds: Holds[str] = Holds(5.0)
    holds.add("st-1", "arms r1", 100.0)
    holds.add("st-1", "visit r1", 100.2)
    assert holds.next_due() == 105.0
    assert holds.due(104.9) == []
    assert holds.due(105.0) == [["arms r1", "visit r1"]]
    assert holds.due(200.0) == []
    assert holds.next_due() is None


def test_the_deadline_is_not_extended_by_later_alerts() -> None:
    holds: Holds[str] = Holds(5.0)
    holds.add("st-1", "a", 100.0)
    holds.add("st-1", "b", 104.0)
    assert holds.due(105.0) == [["a", "b"]]
    holds.add("st-1", "c", 105.5)  # after the release: a new hold
    assert holds.next_due() == 110.5


def test_stories_are_held_apart_and_released_oldest_first() -> None:
    holds: Holds[str] = Holds(2.0)
    holds.add("st-b", "b1", 10.0)
    holds.add("st-a", "a1", 11.0)
    holds.add("st-b", "b2", 11.5)
    assert holds.due(12.5) == [["b1", "b2"]]
    holds.add("st-c", "c1", 12.6)
    assert holds.due(20.0) == [["a1"], ["c1"]]


def test_a_zero_hold_releases_at_once() -> None:
    holds: Holds[str] = Holds(0.0)
    holds.add("st-1", "a", 50.0)
    holds.add("st-1", "b", 50.0)
    assert holds.due(50.0) == [["a", "b"]]
