from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pipeline.alerting import AlertLedger
from pipeline.breaking import Surge
from pipeline.scoring import Watchlist
from pipeline.stories import StoryView, TopicFact
from schemas.alert import AlertDoc
from schemas.article import ActorRef, alert_id

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
WEIGHTS = {"arms_transfer": 0.55, "leader_visit": 0.45, "sanctions": 0.4}
KIM = ActorRef(id="person:kim-jong-un", name="Kim Jong Un", type="person", country="PRK")
PUTIN = ActorRef(id="person:vladimir-putin", name="Vladimir Putin", type="person", country="RUS")
PRK = ActorRef(id="PRK", name="North Korea", type="country", country="PRK")
USA = ActorRef(id="USA", name="United States", type="country", country="USA")
FRA = ActorRef(id="FRA", name="France", type="country", country="FRA")


def _ledger() -> AlertLedger:
    return AlertLedger(WEIGHTS, Watchlist({"PRK": 1.6, "person:kim-jong-un": 1.6}))


def _fact(topic: str = "arms_transfer", score: float = 6.0, threshold: float = 3.0) -> TopicFact:
    explanation = {"topic": topic, "score": score, "threshold": threshold, "terms": ["arms talks"]}
    return TopicFact(topic, "military", score, threshold, "planned_or_possible", "art-1", explanation)


def _story(
    *,
    story_id: str = "st-kim",
    articles: int = 1,
    independent: tuple[str, ...] = ("wire-global",),
    copies: tuple[str, ...] = (),
    topics: tuple[TopicFact, ...] | None = None,
    actors: tuple[ActorRef, ...] = (KIM, PRK, PUTIN),
) -> StoryView:
    return StoryView(
        story_id=story_id,
        headline="Kim Jong Un may travel to Russia for arms talks with Putin, US says",
        url="https://wire-global.example/news/kim-putin-arms-talks",
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=articles - 1),
        articles=articles,
        sources=tuple(sorted(independent + copies)),
        independent_sources=independent,
        tiers=("wire",),
        topics=(_fact(),) if topics is None else topics,
        actors=actors,
    )


def _one(docs: list[AlertDoc]) -> AlertDoc:
    assert len(docs) == 1, [d.watchfloor.reason for d in docs]
    return docs[0]


def test_first_alert_of_a_one_article_story_is_revision_1_new_story() -> None:
    doc = _one(_ledger().decide(_story(), T0))
    w = doc.watchfloor
    assert (w.story_id, w.topic, w.revision, w.reason) == ("st-kim", "arms_transfer", 1, "new_story")
    # 100 * 0.55 * 1.6 (Kim / PRK) * 1 * 1 * 1 = 88
    assert (w.score, w.severity) == (88, "critical")
    assert w.alert_id == alert_id("st-kim", "arms_transfer", 1)
    assert doc.event.id == w.alert_id


def test_one_alert_per_topic() -> None:
    story = _story(topics=(_fact("arms_transfer"), _fact("leader_visit")))
    docs = _ledger().decide(story, T0)
    assert [(d.watchfloor.topic, d.watchfloor.revision, d.watchfloor.reason) for d in docs] == [
        ("arms_transfer", 1, "new_story"),
        ("leader_visit", 1, "new_story"),
    ]
    assert len({d.watchfloor.alert_id for d in docs}) == 2


def test_a_topic_first_seen_in_a_later_article_is_new_topic() -> None:
    ledger = _ledger()
    ledger.decide(_story(), T0)
    later = _story(articles=2, topics=(_fact("arms_transfer"), _fact("sanctions")))
    doc = _one(ledger.decide(later, T0))
    assert (doc.watchfloor.topic, doc.watchfloor.revision, doc.watchfloor.reason) == (
        "sanctions",
        1,
        "new_topic",
    )


def test_nothing_material_no_new_revision() -> None:
    ledger = _ledger()
    ledger.decide(_story(), T0)
    assert ledger.decide(_story(), T0 + timedelta(minutes=5)) == []


def test_a_syndicated_copy_adds_a_source_but_no_revision() -> None:
    ledger = _ledger()
    ledger.decide(_story(), T0)
    copy = _story(articles=2, copies=("daily-courier",))
    assert copy.sources == ("daily-courier", "wire-global")
    assert ledger.decide(copy, T0 + timedelta(minutes=1)) == []
    assert len(ledger) == 1


def test_severity_band_up_is_a_new_revision() -> None:
    ledger = _ledger()
    # No listed actor, score at the threshold: 100 * 0.45 * 0.85 = 38.25 -> 38, low.
    first = _one(ledger.decide(_story(topics=(_fact("leader_visit", 4.0, 4.0),), actors=()), T0))
    assert (first.watchfloor.score, first.watchfloor.severity) == (38, "low")
    # A better-matching article: twice the threshold, 100 * 0.45 = 45, medium.
    up = _one(ledger.decide(_story(articles=2, topics=(_fact("leader_visit", 8.0, 4.0),), actors=()), T0))
    w = up.watchfloor
    assert (w.revision, w.reason, w.score, w.severity) == (2, "severity_up", 45, "medium")
    assert w.alert_id == alert_id("st-kim", "leader_visit", 2)


def test_a_lower_score_in_the_same_band_or_lower_is_not_material() -> None:
    ledger = _ledger()
    ledger.decide(_story(), T0)  # 88, critical
    # 60 hours on: novelty 1 - 0.4 * (54 / 66), 88 * 0.6727 = 59.2 -> medium, a lower band.
    assert ledger.decide(_story(), T0 + timedelta(hours=60)) == []


def test_independent_corroboration_crossing_2_3_5_is_a_new_revision() -> None:
    ledger = _ledger()
    # Critical throughout (88 * 1.15 = 101.2 -> 100), so only corroboration can be the reason.
    outlets = ("wire-global", "daily-courier", "asia-monitor", "baltic-post", "gulf-times", "pacific-herald")
    seen = []
    for n in range(1, len(outlets) + 1):
        for doc in ledger.decide(_story(articles=n, independent=outlets[:n]), T0):
            seen.append((n, doc.watchfloor.revision, doc.watchfloor.reason, doc.watchfloor.severity))
    assert seen == [
        (1, 1, "new_story", "critical"),
        (2, 2, "corroborated", "critical"),
        (3, 3, "corroborated", "critical"),
        (5, 4, "corroborated", "critical"),
    ]


def test_jumping_over_several_steps_is_one_revision() -> None:
    ledger = _ledger()
    ledger.decide(_story(), T0)
    doc = _one(ledger.decide(_story(articles=3, independent=("a", "b", "c")), T0))
    assert (doc.watchfloor.revision, doc.watchfloor.reason, doc.watchfloor.independent_sources) == (
        2,
        "corroborated",
        3,
    )


def test_a_new_actor_is_a_new_revision_and_a_dropped_one_is_not() -> None:
    ledger = _ledger()
    ledger.decide(_story(actors=(KIM, PRK)), T0)
    # USA is not on the watch list: severity unchanged, the reason is the actor.
    doc = _one(ledger.decide(_story(articles=2, actors=(KIM, PRK, USA)), T0))
    assert (doc.watchfloor.revision, doc.watchfloor.reason) == (2, "new_actor")
    assert doc.watchfloor.actor_ids == ["person:kim-jong-un", "PRK", "USA"]
    assert ledger.decide(_story(articles=3, actors=(KIM, PRK)), T0) == []


def test_alert_ids_are_deterministic_across_ledgers() -> None:
    story = _story(topics=(_fact("arms_transfer"), _fact("sanctions")))
    a = [d.watchfloor.alert_id for d in _ledger().decide(story, T0)]
    b = [d.watchfloor.alert_id for d in _ledger().decide(story, T0 + timedelta(hours=1))]
    assert a == b == [alert_id("st-kim", "arms_transfer", 1), alert_id("st-kim", "sanctions", 1)]
    other = _ledger().decide(replace(story, story_id="st-other"), T0)
    assert not set(a) & {d.watchfloor.alert_id for d in other}


def test_record_keeps_the_highest_revision_and_decide_continues_from_it() -> None:
    source = _ledger()
    outlets = ("a", "b", "c")
    docs = [d for n in range(1, 4) for d in source.decide(_story(articles=n, independent=outlets[:n]), T0)]
    assert [d.watchfloor.revision for d in docs] == [1, 2, 3]

    restored = _ledger()
    for doc in (docs[2], docs[0], docs[1]):  # out of order, as a search might return them
        restored.record(doc)
    assert len(restored) == 1
    assert [d.watchfloor.revision for d in restored.latest("st-kim")] == [3]
    # The restored ledger knows 3 independent sources were alerted: a fourth crosses nothing.
    assert restored.decide(_story(articles=4, independent=("a", "b", "c", "d")), T0) == []
    nxt = _one(restored.decide(_story(articles=5, independent=("a", "b", "c", "d", "e")), T0))
    assert (nxt.watchfloor.revision, nxt.watchfloor.reason) == (4, "corroborated")


def test_latest_returns_the_current_revision_of_each_topic_of_one_story() -> None:
    ledger = _ledger()
    topics = (_fact("arms_transfer"), _fact("leader_visit"))
    ledger.decide(_story(topics=topics), T0)
    ledger.decide(_story(story_id="st-other", topics=topics), T0)
    ledger.decide(_story(topics=topics, articles=2, independent=("a", "b")), T0)
    latest = ledger.latest("st-kim")
    assert [(d.watchfloor.topic, d.watchfloor.revision) for d in latest] == [
        ("arms_transfer", 2),
        ("leader_visit", 2),
    ]
    assert ledger.latest("st-unknown") == []


def test_a_replay_resends_the_document_that_was_issued_not_a_rebuilt_one() -> None:
    """The ledger keeps issued documents compressed; a replay must put the same document on the wire.
    What the classifier explains holds tuples, which come back as lists: equal as JSON, not as Python
    objects, so the comparison is of what is sent (``to_es``: Kafka and Elasticsearch alike)."""
    ledger = _ledger()
    explained = {
        "topic": "leader_visit",
        "contributions": ({"kind": "term", "weight": 0.5, "spans": ({"text": "President", "start": 7},)},),
        "clauses": ({"kind": "parties", "lists": ("leaders",), "satisfied": True, "detail": None},),
    }
    fact = TopicFact("leader_visit", "diplomacy", 7.5, 4.0, None, "art-1", explained)
    when = T0 + timedelta(microseconds=123_456)
    story = replace(_story(topics=(fact, _fact())), first_seen=when, last_seen=when)
    story = replace(story, surge=Surge(4, 3600, 1.25, "leader_visit|*", when))
    issued = sorted(ledger.decide(story, when), key=lambda d: d.watchfloor.topic)  # latest()'s order
    assert len(issued) == 2 and issued[0].watchfloor.surge is not None
    assert [d.to_es() for d in ledger.latest("st-kim")] == [d.to_es() for d in issued]
    assert [d.model_dump_json(by_alias=True) for d in ledger.latest("st-kim")] == [
        d.model_dump_json(by_alias=True) for d in issued
    ]


def test_forget_drops_a_story_and_only_that_story() -> None:
    ledger = _ledger()
    ledger.decide(_story(), T0)
    ledger.decide(_story(story_id="st-other"), T0)
    ledger.forget(["st-kim", "st-never-seen"])
    assert ledger.latest("st-kim") == []
    assert len(ledger.latest("st-other")) == 1
    assert len(ledger) == 1
    # Forgotten: the next decision starts over.
    assert _one(ledger.decide(_story(), T0)).watchfloor.revision == 1


def test_unknown_topics_get_the_default_weight() -> None:
    doc = _one(_ledger().decide(_story(topics=(_fact("piracy"),), actors=()), T0))
    assert doc.watchfloor.score == 50  # 100 * 0.5


def test_alert_document_validates_and_is_ecs_shaped() -> None:
    now = T0 + timedelta(minutes=3)
    story = _story(articles=3, independent=("asia-monitor", "wire-global"), copies=("daily-courier",))
    doc = _one(_ledger().decide(story, now))
    es = doc.to_es()
    assert AlertDoc.model_validate(es) == doc
    assert es["@timestamp"] == "2026-05-04T06:03:00Z"
    assert "timestamp" not in es
    assert es["event"]["kind"] == "alert"
    assert es["event"]["id"] == es["watchfloor"]["alert_id"]
    assert es["event"]["severity"] == 100  # 88 * 1.15 = 101.2, capped
    assert es["rule"]["name"] == "arms_transfer"
    assert es["url"] == {
        "full": "https://wire-global.example/news/kim-putin-arms-talks",
        "domain": "wire-global.example",
    }
    assert set(es["tags"]) == {"watchfloor", "arms_transfer", "critical"}
    w = es["watchfloor"]
    assert w["story_id"] == "st-kim"
    assert w["topic"] == "arms_transfer"
    assert w["revision"] == 1
    assert w["reason"] == "new_topic"  # a three-article story's first alert
    assert w["sources"] == ["asia-monitor", "daily-courier", "wire-global"]
    assert (w["source_count"], w["independent_sources"], w["articles"]) == (3, 2, 3)
    assert w["modality"] == "planned_or_possible"
    assert w["first_seen"] == "2026-05-04T06:00:00Z"
    assert w["explanation"]["topic"]["article_id"] == "art-1"
    assert w["explanation"]["severity"]["factors"]["corroboration"] == 1.15
    assert "→ 100" in w["explanation"]["severity"]["arithmetic"]
    assert doc.message.startswith("[critical] arms transfer, planned or possible: Kim Jong Un may travel")
    assert "3 sources (2 independent)" in doc.message
    assert "Kim Jong Un, Vladimir Putin" in doc.message


def test_a_merged_story_carries_its_alerts_over_so_the_survivor_does_not_alert_them_again() -> None:
    ledger = _ledger()
    visit = _fact("leader_visit")
    ledger.decide(_story(story_id="st-old"), T0)
    ledger.decide(_story(story_id="st-new", topics=(_fact(), visit)), T0)
    ledger.merge("st-new", "st-old")
    assert ledger.latest("st-new") == []
    merged = _story(story_id="st-old", articles=2, topics=(_fact(), visit))
    assert ledger.decide(merged, T0) == [], "both topics were already alerted on"
    carried = [a.watchfloor for a in ledger.latest("st-old")]
    assert [(w.story_id, w.topic, w.revision) for w in carried] == [
        ("st-old", "arms_transfer", 1),
        ("st-new", "leader_visit", 1),
    ], "the survivor keeps its own alert where it had one"
    crossed = _story(story_id="st-old", articles=3, independent=("a", "b"), topics=(_fact(), visit))
    revisions = {
        a.watchfloor.topic: (a.watchfloor.story_id, a.watchfloor.revision) for a in ledger.decide(crossed, T0)
    }
    assert revisions == {"arms_transfer": ("st-old", 2), "leader_visit": ("st-old", 2)}
