"""Event links without Beam: keys from topics and named people, the window, the choice, expiry."""

from datetime import UTC, datetime, timedelta

from pipeline.linking import LINK_WINDOW, MAX_PEOPLE, EventLinks, event_keys, link_key
from schemas.article import ActorRef

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
KIM = ActorRef(id="person:kim-jong-un", name="Kim Jong Un", type="person", country="PRK")
PUTIN = ActorRef(id="person:vladimir-putin", name="Vladimir Putin", type="person", country="RUS")
SHOIGU = ActorRef(id="person:sergei-shoigu", name="Sergei Shoigu", type="person", country="RUS")
PRK = ActorRef(id="PRK", name="North Korea", type="country")
RUS = ActorRef(id="RUS", name="Russia", type="country")
VISIT = [{"topic": "leader_visit"}]


def test_keys_are_topic_and_pairs_of_named_people_only() -> None:
    assert event_keys(VISIT, [PRK, RUS, KIM]) == [], "countries are too coarse, one person is no pair"
    assert event_keys(VISIT, [PUTIN, PRK, KIM]) == [link_key("leader_visit", KIM.id, PUTIN.id)]
    assert link_key("leader_visit", KIM.id, PUTIN.id) == link_key("leader_visit", PUTIN.id, KIM.id)
    assert link_key("leader_visit", KIM.id, PUTIN.id) != link_key("sanctions", KIM.id, PUTIN.id)
    keys = event_keys([{"topic": "arms_transfer"}, {"topic": "leader_visit"}], [KIM, PUTIN, SHOIGU])
    assert len(keys) == 2 * 3
    crowd = [ActorRef(id=f"person:p{n}", name=f"P{n}", type="person") for n in range(10)]
    assert len(event_keys(VISIT, crowd)) == MAX_PEOPLE * (MAX_PEOPLE - 1) // 2


def test_find_links_within_the_window_only() -> None:
    links = EventLinks()
    keys = event_keys(VISIT, [KIM, PUTIN])
    links.record(keys, "st-a", T0)
    assert links.find(keys, T0 + LINK_WINDOW) == "st-a"
    assert links.find(keys, T0 + LINK_WINDOW + timedelta(seconds=1)) is None
    assert links.find(event_keys([{"topic": "sanctions"}], [KIM, PUTIN]), T0) is None, "another topic"


def test_the_story_seen_most_recently_wins_and_ties_go_to_the_smaller_id() -> None:
    links = EventLinks()
    pair = event_keys(VISIT, [KIM, PUTIN])
    other = event_keys(VISIT, [KIM, SHOIGU])
    links.record(pair, "st-b", T0)
    links.record(other, "st-a", T0 + timedelta(hours=1))
    both = event_keys(VISIT, [KIM, PUTIN, SHOIGU])
    assert links.find(both, T0 + timedelta(hours=2)) == "st-a"
    links.record(pair, "st-0", T0 + timedelta(hours=1))
    assert links.find(both, T0 + timedelta(hours=2)) == "st-0"
    links.record(pair, "st-z", T0)  # older than what the key has: ignored
    assert links.find(pair, T0) == "st-0"


def test_forget_drops_an_expired_storys_keys_but_not_a_newer_owners() -> None:
    links = EventLinks()
    pair = event_keys(VISIT, [KIM, PUTIN])
    other = event_keys(VISIT, [KIM, SHOIGU])
    links.record(pair + other, "st-old", T0)
    links.record(pair, "st-new", T0 + timedelta(hours=1))
    before = links.state_bytes()
    links.forget(["st-old"])
    assert links.find(other, T0) is None
    assert links.find(pair, T0) == "st-new"
    assert 0 < links.state_bytes() < before


def test_the_window_runs_from_the_storys_start_so_links_do_not_chain_for_ever() -> None:
    links = EventLinks()
    pair = event_keys(VISIT, [KIM, PUTIN])
    links.record(pair, "st-a", T0)
    assert links.find(pair, T0 + timedelta(hours=40)) == "st-a"
    links.record(pair, "st-a", T0)  # the linked report joined: the story still began at T0
    assert links.find(pair, T0 + timedelta(hours=80)) is None, "a later event opens a story of its own"
    links.record(pair, "st-b", T0 + timedelta(hours=80))
    assert links.find(pair, T0 + timedelta(hours=100)) == "st-b"
