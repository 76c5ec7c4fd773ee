"""StoryBook and PipelineState on the demo corpus (deploy/demo/stories.yaml) rendered as real feeds."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.demo.corpus import Corpus, DemoArticle, Outlet, render_rss
from connectors.feeds.normalize import normalize_feed
from connectors.feeds.parse import parse_feed
from pipeline.alerting import AlertLedger
from pipeline.articles import Analysis, analyse, article_doc, cluster_doc
from pipeline.classify.engine import Classifier
from pipeline.classify.rules import load_rules
from pipeline.events import EventMatch, EventParams, digest, headline_kinds
from pipeline.scoring import Watchlist
from pipeline.state import PipelineState, Placed
from pipeline.stories import ArticleRef, StoryBook, TopicFact, topic_facts
from schemas.alert import AlertDoc
from schemas.article import ActorRef, ArticleDoc, alert_id, story_id_for
from schemas.feed import FeedConfig, SourceTier
from schemas.item import FeedItem

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
FETCHED = T0 + timedelta(minutes=30)
KIM = "kim-putin-arms-talks"

CORPUS = Corpus.load()
BALTIC = Outlet("baltic-post", "Baltic Post", SourceTier.REGIONAL, "EE", "balticpost.example")
GULF = Outlet("gulf-times", "Gulf Times", SourceTier.REGIONAL, "QA", "gulftimes.example")
PARIS = Outlet("paris-daily", "Paris Daily", SourceTier.NATIONAL, "FR", "parisdaily.example")


# ---------------------------------------------------------------------------------------------- corpus


def _render(outlet: Outlet, articles: Iterable[DemoArticle], fetched: datetime = FETCHED) -> list[FeedItem]:
    """`articles` as `outlet`'s RSS, through the ingester's parser and normaliser."""
    feed = FeedConfig(
        id=outlet.id,
        url=f"http://127.0.0.1:1/{outlet.id}.xml",
        name=outlet.name,
        tier=outlet.tier,
        country=outlet.country,
        min_interval_s=30,
        max_interval_s=60,
    )
    parsed = parse_feed(render_rss(outlet, articles, T0), {"content-type": "application/rss+xml"}, feed.url)
    items, errors = normalize_feed(parsed, feed, fetched)
    assert not errors
    return items


# The acceptance scenario's stories: the canonical one from three outlets and unrelated news.
SCENARIO = {KIM, "central-bank-rates", "harbour-storm", "cup-final"}


def _demo_items() -> dict[tuple[str, str], FeedItem]:
    """The scenario's demo articles as FeedItems, by (story, outlet)."""
    items = {}
    for outlet in CORPUS.outlets.values():
        articles = [a for a in CORPUS.by_outlet(outlet.id) if a.story in SCENARIO]
        if not articles:
            continue
        for item in _render(outlet, articles):
            assert item.guid is not None
            feed, story = item.guid.split(":")
            items[(story, feed)] = item
    return items


ITEMS = _demo_items()
WIRE = ITEMS[(KIM, "wire-global")]
COURIER = ITEMS[(KIM, "daily-courier")]
ASIA = ITEMS[(KIM, "asia-monitor")]
DEMO = sorted(ITEMS.values(), key=lambda i: i.event_time)
_KIM_ORIGINAL = next(a for a in CORPUS.articles if a.story == KIM and a.outlet == "wire-global")


def _variant(
    outlet: Outlet, title: str, text: str, minutes: int, fetched: datetime = FETCHED, story: str = KIM
) -> FeedItem:
    """An outlet's own version of the Kim story (`story` gives it an item id of its own)."""
    article = replace(
        _KIM_ORIGINAL,
        story=story,
        outlet=outlet.id,
        title=title,
        text=text,
        link=f"https://{outlet.host}/news/{story}",
        at=timedelta(minutes=minutes),
    )
    [item] = _render(outlet, [article], fetched)
    return item


_PARAGRAPHS = _KIM_ORIGINAL.text.split("\n\n")

# A copy of the wire story with one sentence added that names another leader.
XI_COPY = _variant(
    BALTIC,
    "Kim may visit Putin for arms talks as Beijing stays silent",
    _KIM_ORIGINAL.text.replace(
        "Letters exchanged", "Chinese President Xi Jinping has not commented on the talks. Letters exchanged"
    ),
    6,
)
# Another copy, adding a paragraph that names Iran's supreme leader.
KHAMENEI_COPY = _variant(
    GULF,
    "Kim to meet Putin on arms, report says",
    "\n\n".join(
        [
            *_PARAGRAPHS[:5],
            "Iran's supreme leader Ali Khamenei was not mentioned in the briefing, Tehran noted.",
        ]
    ),
    7,
)
# The same news in the outlet's own words: a rewritten lede, the last paragraphs dropped.
REWRITE = _variant(
    PARIS,
    "Kim heads for Russia arms talks",
    "\n\n".join(
        [
            "Pyongyang's leader is preparing a trip to Russia, where he would discuss supplying artillery and"
            " other weapons to Moscow with President Putin, according to US intelligence made public on"
            " Monday.",
            *_PARAGRAPHS[1:5],
        ]
    ),
    8,
)


# The same event reported wholly in another outlet's words: no sentence of the wire text.
OWN_WORDS = _variant(
    GULF,
    "Kim Jong Un expected in Vladivostok for talks with Putin",
    "North Korean leader Kim Jong Un will travel to Vladivostok within weeks to meet Vladimir Putin, South"
    " Korean officials said. Washington warns that an arms deal between Pyongyang and Moscow would breach UN"
    " sanctions.",
    120,
)
# Another event between the same two countries, in a stream where both are everyday names.
FISHERIES = _variant(
    BALTIC,
    "Russia and North Korea sign fisheries accord",
    "Russian and North Korean officials signed a fisheries agreement in Pyongyang on catch quotas in the Sea"
    " of Japan, state media reported.",
    150,
    story="fisheries",
)
BACKGROUND = [
    _variant(
        PARIS,
        f"Background report {n}",
        f"{subject} Officials in Russia and North Korea gave no further details.",
        10 + n,
        story=f"background-{n}",
    )
    for n, subject in enumerate(
        [
            "A cargo ship ran aground near a port.",
            "Wheat prices rose after a poor harvest.",
            "A museum reopened after renovation.",
            "Floods cut a railway line for two days.",
            "A chess tournament drew record entries.",
            "A new airline route was announced.",
            "Teachers protested over pay.",
            "A bridge was closed for repairs.",
        ]
    )
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_dir(DEPLOY)


def _state() -> PipelineState:
    weights = {rule.id: rule.alert_weight for rule in load_rules((DEPLOY / "rules").glob("*.yaml"))}
    return PipelineState(AlertLedger(weights, Watchlist.load(DEPLOY / "watchlist.yaml")))


class Run:
    """The stateful steps in job order (Deduplicate → Classify → Cluster → Decide), recording the writes."""

    def __init__(self, classifier: Classifier, state: PipelineState | None = None) -> None:
        self.classifier = classifier
        self.state = state or _state()
        self.articles: dict[str, ArticleDoc] = {}  # watchfloor-articles, by _id, in first-write order
        self.alerts: dict[str, AlertDoc] = {}  # watchfloor-alerts, by _id

    def process(self, item: FeedItem) -> tuple[str | None, Placed | None, list[AlertDoc]]:
        kind = self.state.deduplicate(item)
        if kind in {"url", "hash"}:
            return kind, None, []
        analysis = analyse(self.classifier, item)
        placed = self.state.assign(item, analysis)
        alerts = self.state.decide(placed)
        doc = article_doc(
            item, analysis, placed.story.story_id, syndicated=placed.syndicated, merged=placed.merged
        )
        if placed.replay:  # create-only: the first write of an article wins
            self.articles.setdefault(doc.article_id, doc)
        else:
            self.articles[doc.article_id] = doc
        for alert in alerts:
            self.alerts[alert.watchfloor.alert_id] = alert
        return kind, placed, alerts

    def placed(self, item: FeedItem) -> Placed:
        _, placed, _ = self.process(item)
        assert placed is not None
        return placed

    def topics(self, alerts: list[AlertDoc]) -> dict[str, tuple[int, str]]:
        return {a.watchfloor.topic: (a.watchfloor.revision, a.watchfloor.reason) for a in alerts}


# ------------------------------------------------------------------------------------------- StoryBook


def _ref(article_id: str, source: str, minutes: int = 0, tier: str = "wire") -> ArticleRef:
    return ArticleRef(
        article_id,
        "st-1",
        f"Headline {article_id}",
        f"https://{source}.example/{article_id}",
        source,
        tier,
        T0 + timedelta(minutes=minutes),
    )


def _fact(topic: str, score: float, article_id: str) -> TopicFact:
    return TopicFact(topic, "military", score, 3.0, None, article_id, {"topic": topic, "score": score})


PRK = ActorRef(id="PRK", name="North Korea", type="country", country="PRK")
RUS = ActorRef(id="RUS", name="Russia", type="country", country="RUS")


def test_book_counts_an_article_once_however_often_it_is_added() -> None:
    book = StoryBook()
    ref = _ref("a1", "wire-global")
    first = book.add(ref, [_fact("arms_transfer", 5, "a1")], [PRK], syndicated=False)
    again = book.add(ref, [_fact("arms_transfer", 9, "a1")], [PRK, RUS], syndicated=True)
    assert again == first
    assert again.articles == 1
    assert again.independent_sources == ("wire-global",)
    assert book.syndicated("st-1", "a1") is False


def test_book_syndicated_copies_count_as_sources_but_not_independent_sources() -> None:
    book = StoryBook()
    book.add(_ref("a1", "wire-global"), [], [], syndicated=False)
    book.add(_ref("a2", "daily-courier", 1, "national"), [], [], syndicated=True)
    view = book.add(_ref("a3", "asia-monitor", 2, "regional"), [], [], syndicated=False)
    assert view.articles == 3
    assert view.sources == ("asia-monitor", "daily-courier", "wire-global")
    assert view.independent_sources == ("asia-monitor", "wire-global")
    assert view.tiers == ("national", "regional", "wire")
    assert book.syndicated("st-1", "a2") is True
    assert book.syndicated("st-1", "a9") is None
    assert book.syndicated("st-9", "a1") is None


def test_book_a_source_is_independent_if_any_of_its_articles_is() -> None:
    book = StoryBook()
    book.add(_ref("a1", "wire-global"), [], [], syndicated=False)
    book.add(_ref("a2", "daily-courier", 1), [], [], syndicated=True)
    view = book.add(_ref("a3", "daily-courier", 2), [], [], syndicated=False)
    assert view.independent_sources == ("daily-courier", "wire-global")


def test_book_topics_keep_the_best_score_and_actors_union() -> None:
    book = StoryBook()
    book.add(_ref("a1", "s1"), [_fact("arms_transfer", 5, "a1")], [PRK], syndicated=False)
    book.add(
        _ref("a2", "s2", 1),
        [_fact("arms_transfer", 9, "a2"), _fact("sanctions", 4, "a2")],
        [RUS, PRK],
        syndicated=False,
    )
    view = book.add(_ref("a3", "s3", 2), [_fact("arms_transfer", 7, "a3")], [], syndicated=False)
    assert [(t.topic, t.score, t.article_id) for t in view.topics] == [
        ("arms_transfer", 9, "a2"),
        ("sanctions", 4, "a2"),
    ]
    assert view.actor_ids == ("PRK", "RUS")


def test_book_story_times_and_headline() -> None:
    book = StoryBook()
    book.add(_ref("a1", "s1", 10), [], [], syndicated=False)
    view = book.add(_ref("a2", "s2", 3), [], [], syndicated=False)  # published earlier, arrived later
    assert (view.first_seen, view.last_seen) == (T0 + timedelta(minutes=3), T0 + timedelta(minutes=10))
    assert view.headline == "Headline a1"
    book.forget(["st-1", "st-unknown"])
    assert "st-1" not in book
    assert len(book) == 0


def test_topic_facts_come_from_the_classifier_explanation(classifier: Classifier) -> None:
    analysis = analyse(classifier, WIRE)
    facts = topic_facts(WIRE.item_id, list(analysis.topics))
    assert {f.topic for f in facts} >= {"arms_transfer"}
    for fact, explained in zip(facts, analysis.topics, strict=True):
        assert (fact.topic, fact.score, fact.threshold) == (
            explained["topic"],
            explained["score"],
            explained["threshold"],
        )
        assert fact.article_id == WIRE.item_id
        assert fact.explanation == explained


# ----------------------------------------------------------------------------------------- deduplicate


def test_deduplicate_new_replay_url_and_hash() -> None:
    state = _state()
    assert state.deduplicate(WIRE) is None
    assert state.deduplicate(WIRE) == "id"
    # The same article in another feed of the publisher: another item id, same canonical URL.
    other_feed = WIRE.model_copy(update={"item_id": "f" * 32, "feed_id": "wire-global-asia"})
    assert state.deduplicate(other_feed) == "url"
    # Byte-identical text under another URL: same content hash.
    mirror = WIRE.model_copy(update={"item_id": "e" * 32, "url": "https://mirror.example/kim"})
    assert state.deduplicate(mirror) == "hash"
    # Near-copies of the wire story are not exact duplicates: clustering handles them.
    assert state.deduplicate(COURIER) is None


def test_deduplicate_never_moves_the_event_clock_past_fetch_time() -> None:
    state = _state()
    future = WIRE.model_copy(update={"published": FETCHED + timedelta(days=2)})
    state.deduplicate(future)
    assert state.clock == FETCHED


# ---------------------------------------------------------------------------------------------- assign


def test_copies_of_one_story_are_placed_together_and_near_verbatim_copies_are_syndicated(
    classifier: Classifier,
) -> None:
    run = Run(classifier)
    placed = {(i.guid or ""): run.placed(i) for i in DEMO}
    wire, courier, asia = (placed[f"{o}:{KIM}"] for o in ("wire-global", "daily-courier", "asia-monitor"))
    assert wire.story.story_id == courier.story.story_id == asia.story.story_id == story_id_for(WIRE.item_id)
    assert (wire.syndicated, courier.syndicated, asia.syndicated) == (False, True, True)
    assert not any(p.replay for p in placed.values())
    # Four stories: the three unrelated ones each alone.
    assert len({p.story.story_id for p in placed.values()}) == 4
    story = run.state.book.view(wire.story.story_id)
    assert story.articles == 3
    assert story.sources == ("asia-monitor", "daily-courier", "wire-global")
    assert story.independent_sources == ("wire-global",)
    assert story.headline == WIRE.title


def test_an_outlets_own_rewrite_joins_the_story_as_independent_corroboration(classifier: Classifier) -> None:
    run = Run(classifier)
    _, _, first = run.process(WIRE)
    assert {a.watchfloor.topic for a in first} >= {"arms_transfer"}
    run.process(COURIER)
    kind, placed, alerts = run.process(REWRITE)
    assert kind is None and placed is not None
    assert placed.story.story_id == story_id_for(WIRE.item_id)
    assert placed.syndicated is False
    assert placed.story.independent_sources == ("paris-daily", "wire-global")
    # A second independent source is a corroboration step. arms_transfer was critical already
    # (100 * 0.55 * 1.6 = 88) and stays critical (88 * 1.15 = 101.2 -> 100): the reason is corroboration.
    arms = next(a for a in alerts if a.watchfloor.topic == "arms_transfer")
    w = arms.watchfloor
    assert (w.revision, w.reason, w.score) == (2, "corroborated", 100)
    assert arms.watchfloor.alert_id == alert_id(placed.story.story_id, "arms_transfer", 2)
    assert {a.watchfloor.revision for a in alerts} == {2}


def test_syndicated_copies_raise_no_alert_and_a_new_actor_does(classifier: Classifier) -> None:
    run = Run(classifier)
    _, _, first = run.process(WIRE)
    topics = {a.watchfloor.topic for a in first}
    assert all(a.watchfloor.reason == "new_story" for a in first)
    assert run.process(COURIER)[2] == []
    assert run.process(ASIA)[2] == []
    _, placed, alerts = run.process(XI_COPY)
    assert placed is not None
    assert placed.syndicated
    assert "person:xi-jinping" in placed.story.actor_ids
    assert run.topics(alerts) == {t: (2, "new_actor") for t in topics}


# ---------------------------------------------------------------------------------------------- replay


def test_a_replay_gets_its_first_placement_back_and_resends_the_current_alerts(
    classifier: Classifier,
) -> None:
    run = Run(classifier)
    for item in (WIRE, COURIER, ASIA, XI_COPY):
        run.process(item)
    story_id = story_id_for(WIRE.item_id)
    current = run.state.ledger.latest(story_id)
    assert {a.watchfloor.revision for a in current} == {2}
    before = run.state.book.view(story_id)

    for item, syndicated in ((WIRE, False), (COURIER, True)):
        kind, placed, alerts = run.process(item)
        assert kind == "id"
        assert placed is not None
        assert (placed.story.story_id, placed.replay, placed.syndicated) == (story_id, True, syndicated)
        # The replayed article counts once; the story is unchanged.
        assert run.state.book.view(story_id) == before
        # Nothing is new, but the current revision of every alert is sent again (its earlier writes may not
        # have finished); same ids, so the resend overwrites rather than duplicates.
        assert [a.watchfloor.alert_id for a in alerts] == [a.watchfloor.alert_id for a in current]
    assert len(run.state.ledger) == len(current)


# --------------------------------------------------------------------------------------------- restore


def test_a_report_in_its_own_words_joins_the_story_of_the_same_event(classifier: Classifier) -> None:
    run = Run(classifier)
    run.process(WIRE)
    story_id = story_id_for(WIRE.item_id)
    assert run.state.stories.assign(cluster_doc(OWN_WORDS)).is_new_story, "its text alone opens a story"

    run = Run(classifier)
    run.process(WIRE)
    _, placed, alerts = run.process(OWN_WORDS)
    assert placed is not None
    assert (placed.story.story_id, placed.syndicated, placed.linked) == (story_id, False, True)
    assert placed.story.independent_sources == ("gulf-times", "wire-global")
    assert {a.watchfloor.revision for a in alerts} == {2}, "revisions of the story's alerts, not new ones"
    assert {a.watchfloor.reason for a in alerts} <= {"corroborated", "severity_up"}
    copy = _variant(PARIS, OWN_WORDS.title, OWN_WORDS.summary + " Reporting by our Seoul desk.", 130)
    _, placed, alerts = run.process(copy)
    assert placed is not None
    assert (placed.story.story_id, placed.syndicated) == (story_id, True), "a copy of the linked report"
    assert placed.story.independent_sources == ("gulf-times", "wire-global")
    assert alerts == []


def test_another_event_between_the_same_countries_stays_apart(classifier: Classifier) -> None:
    run = Run(classifier)
    for item in [*BACKGROUND, WIRE]:
        run.process(item)
    _, placed, _ = run.process(FISHERIES)
    assert placed is not None
    assert placed.story.story_id == story_id_for(FISHERIES.item_id)


def _report(outlet: Outlet, title: str, text: str, hours: int) -> FeedItem:
    """An outlet's own report, published and fetched `hours` after the wire story."""
    return _variant(outlet, title, text, 60 * hours, fetched=T0 + timedelta(hours=hours, minutes=1))


def test_a_story_takes_reports_by_their_event_only_while_it_is_in_the_news(classifier: Classifier) -> None:
    run = Run(classifier)
    run.process(WIRE)
    story_id = story_id_for(WIRE.item_id)
    day2 = _report(
        GULF,
        "Kim Jong Un's train said to be ready for Vladivostok talks with Putin",
        "North Korean leader Kim Jong Un is expected to travel to Vladivostok for arms talks with Vladimir"
        " Putin, Japanese media said.",
        20,
    )
    day4 = _report(
        PARIS,
        "Putin to host Kim Jong Un at a Far East summit",
        "Vladimir Putin will meet North Korean leader Kim Jong Un in Vladivostok for arms talks next week,"
        " the Kremlin announced.",
        80,
    )
    _, placed, _ = run.process(day2)
    assert placed is not None and placed.story.story_id == story_id, "20 h after its latest article"
    _, placed, alerts = run.process(day4)
    assert placed is not None
    assert placed.story.story_id != story_id, "60 h after the story's latest article: a story of its own"
    assert {a.watchfloor.revision for a in alerts} == {1}


def test_a_restored_story_is_found_by_its_event_too(classifier: Classifier) -> None:
    before = Run(classifier)
    before.process(WIRE)
    restored = _state()
    restored.restore(list(before.articles.values()), list(before.alerts.values()))
    _, placed, _ = Run(classifier, restored).process(OWN_WORDS)
    assert placed is not None
    assert placed.story.story_id == story_id_for(WIRE.item_id)


def test_restore_continues_stories_replays_and_alert_revisions(classifier: Classifier) -> None:
    before = Run(classifier)
    for item in [*DEMO, XI_COPY]:
        before.process(item)
    story_id = story_id_for(WIRE.item_id)
    issued = [a for a in before.alerts.values() if a.watchfloor.story_id == story_id]
    assert sorted({a.watchfloor.revision for a in issued}) == [1, 2]

    restored = _state()
    counts = restored.restore(list(before.articles.values()), list(before.alerts.values()))
    assert counts == (len(before.articles), len(before.alerts))
    assert len(restored.book) == len(before.state.book) == 4
    assert restored.book.view(story_id) == before.state.book.view(story_id)
    assert restored.clock == before.state.clock
    after = Run(classifier, restored)

    # What the job wrote before the crash is replayed: same placement, flagged as replays.
    for item, syndicated in ((WIRE, False), (ASIA, True), (XI_COPY, True)):
        kind, placed, alerts = after.process(item)
        assert kind == "id"
        assert placed is not None
        assert (placed.story.story_id, placed.replay, placed.syndicated) == (story_id, True, syndicated)
        assert {a.watchfloor.revision for a in alerts} == {2}
    # Exact duplicates of restored articles are still recognised.
    assert restored.deduplicate(WIRE.model_copy(update={"item_id": "d" * 32})) == "url"

    # A new copy joins the restored story, and its new actor makes revision 3, not 1.
    kind, placed, alerts = after.process(KHAMENEI_COPY)
    assert kind is None
    assert placed is not None
    assert placed.story.story_id == story_id
    assert not placed.replay
    assert placed.story.articles == 5
    assert alerts
    assert {(a.watchfloor.revision, a.watchfloor.reason) for a in alerts} == {(3, "new_actor")}
    assert {a.watchfloor.alert_id for a in alerts}.isdisjoint(before.alerts)

    # An independent rewrite: the second independent source, revision 4.
    _, placed, alerts = after.process(REWRITE)
    assert placed is not None
    assert not placed.syndicated
    arms = next(a for a in alerts if a.watchfloor.topic == "arms_transfer")
    assert (arms.watchfloor.revision, arms.watchfloor.reason) == (4, "corroborated")


def test_restore_ignores_alerts_of_stories_it_does_not_know(classifier: Classifier) -> None:
    before = Run(classifier)
    before.process(WIRE)
    restored = _state()
    assert restored.restore([], list(before.alerts.values())) == (0, 0)
    assert len(restored.ledger) == 0


# ---------------------------------------------------------------------------------------------- expiry


def test_expire_drops_old_stories_with_their_facts_and_alerts(classifier: Classifier) -> None:
    run = Run(classifier)
    for item in DEMO:
        run.process(item)
    kim = story_id_for(WIRE.item_id)
    assert run.state.ledger.latest(kim)
    ttl = run.state.cluster.ttl
    # Kim's story last saw an article at +2 min, the central bank story at +3, the storm at +4, the cup at +5.
    run.state.expire(T0 + ttl + timedelta(minutes=3, seconds=30))
    assert kim not in run.state.book
    assert run.state.ledger.latest(kim) == []
    assert len(run.state.ledger) == 0
    assert len(run.state.stories) == len(run.state.book) == 2
    # Dedup keys live for their own (longer) window.
    assert run.state.deduplicate(WIRE) == "id"


def test_the_event_clock_expires_state_as_it_moves(classifier: Classifier) -> None:
    run = Run(classifier)
    for item in DEMO:
        run.process(item)
    run.state.observe(T0 + timedelta(hours=48))
    assert len(run.state.book) == 4, "younger than the story TTL"
    run.state.observe(T0 + timedelta(hours=73))
    assert len(run.state.book) == len(run.state.stories) == len(run.state.ledger) == 0
    # The clock never runs backwards.
    run.state.observe(T0)
    assert run.state.clock == T0 + timedelta(hours=73)


def test_analysis_of_the_demo_story(classifier: Classifier) -> None:
    """The corpus facts the tests above lean on; if the rule packs change, this names what moved."""
    analysis: Analysis = analyse(classifier, WIRE)
    assert "arms_transfer" in {t["topic"] for t in analysis.topics}
    assert {"PRK", "person:kim-jong-un"} <= {a.id for a in analysis.actors}
    assert "person:xi-jinping" not in {a.id for a in analysis.actors}
    assert "person:xi-jinping" in {a.id for a in analyse(classifier, XI_COPY).actors}
    assert "person:ali-khamenei" in {a.id for a in analyse(classifier, KHAMENEI_COPY).actors}


DERNA_DAMS = _variant(
    GULF,
    "Dams burst above Derna as Storm Daniel floods the city",
    "Two dams collapsed above Derna after Storm Daniel, sending a wall of water through the coastal city.",
    200,
    story="derna-dams",
)
LIBYA_MISSING = _variant(
    PARIS,
    "Thousands missing in eastern Libya",
    "Rescue teams in Benghazi say thousands of people are missing and feared dead in eastern Libya.",
    210,
    story="libya-missing",
)
# Names both: the two stories above are one event.
BRIDGE = _variant(
    BALTIC,
    "Thousands missing in Libya after dams burst above Derna",
    "Thousands of people are missing in eastern Libya after two dams burst above Derna, flooding the city.",
    220,
    story="libya-bridge",
)


def _libya_apart(run: Run) -> tuple[str, str]:
    """The dams report and the missing-people report placed: their two stories' ids."""
    return run.placed(DERNA_DAMS).story.story_id, run.placed(LIBYA_MISSING).story.story_id


def _libya_after_background(classifier: Classifier) -> tuple[Run, str, str]:
    """A run that has seen the background reports and the wire (document frequencies of a live stream),
    then the two Libya reports: the run and their two stories' ids."""
    run = Run(classifier)
    for item in [*BACKGROUND, WIRE]:
        run.process(item)
    return run, *_libya_apart(run)


def test_a_report_that_names_two_stories_event_merges_them_into_the_older(classifier: Classifier) -> None:
    run, dams, missing = _libya_after_background(classifier)
    assert dams != missing, "the two reports alone are two stories"

    placed = run.placed(BRIDGE)
    assert (placed.story.story_id, placed.merged) == (dams, (missing,))
    assert placed.story.articles == 3
    assert set(placed.story.independent_sources) == {"gulf-times", "paris-daily", "baltic-post"}
    assert run.articles[BRIDGE.item_id].merged_stories == [missing]
    assert run.state.resolve(missing) == dams
    assert missing not in run.state.book
    copy = _variant(PARIS, LIBYA_MISSING.title, LIBYA_MISSING.summary + " More soon.", 230, story="copy")
    assert run.placed(copy).story.story_id == dams, "a copy of the merged story's text finds the survivor"

    # A replay of the bridge writes the same record, and a restart replays the merge.
    kind, replayed, _ = run.process(BRIDGE)
    assert kind == "id" and replayed is not None
    assert (replayed.story.story_id, replayed.merged) == (dams, (missing,))
    restored = _state()
    restored.restore(list(run.articles.values()), list(run.alerts.values()))
    assert restored.resolve(missing) == dams
    assert restored.book.view(dams) == run.state.book.view(dams)
    again = _variant(GULF, LIBYA_MISSING.title, LIBYA_MISSING.summary + " Updated.", 240, story="again")
    assert Run(classifier, restored).placed(again).story.story_id == dams


def test_three_outlets_within_the_hour_make_the_story_breaking_and_raise_its_severity(
    classifier: Classifier,
) -> None:
    first = _variant(
        GULF,
        "Kim Jong Un expected in Vladivostok for talks with Putin",
        "North Korean leader Kim Jong Un will travel to Vladivostok to meet Vladimir Putin for arms talks,"
        " officials in Seoul said.",
        10,
        story="first",
    )
    second = _variant(
        BALTIC,
        "Putin to receive Kim Jong Un in Vladivostok, Kremlin confirms",
        "The Kremlin confirmed that Vladimir Putin will host North Korea's Kim Jong Un in Vladivostok, where"
        " arms talks are expected.",
        20,
        story="second",
    )
    run = Run(classifier)
    run.process(WIRE)
    story_id = story_id_for(WIRE.item_id)
    _, placed, alerts = run.process(first)
    assert placed is not None and placed.story.story_id == story_id and placed.story.surge is None
    _, placed, alerts = run.process(second)
    assert placed is not None and placed.story.story_id == story_id
    assert len(placed.story.independent_sources) == 3
    surge = placed.story.surge
    assert surge is not None and surge.sources == 3
    assert alerts and {a.watchfloor.reason for a in alerts} == {"breaking"}
    for alert in alerts:
        w = alert.watchfloor
        assert w.breaking and w.surge is not None and w.surge.sources == 3
        assert w.explanation["severity"]["factors"]["breaking"] == 1.25
        assert (
            alert.message.startswith("BREAKING ") and "3 independent sources within 60 min" in alert.message
        )
    restored = _state()
    restored.restore(list(run.articles.values()), list(run.alerts.values()))
    assert restored.book.view(story_id) == run.state.book.view(story_id)
    kind, _, again = Run(classifier, restored).process(second)
    assert kind == "id", "a replay after the restart"
    assert {a.watchfloor.alert_id for a in again} == {a.watchfloor.alert_id for a in alerts}, (
        "no new revision"
    )


# A chain of merges: the launch and the train story start apart, the summit report merges the train and
# the cosmodrome stories, the launch-during-the-summit report merges that story into the launch's.
LAUNCH = _variant(
    BALTIC,
    "North Korea fires two ballistic missiles into the sea",
    "North Korea fired two short-range ballistic missiles into the sea off its east coast on Wednesday,"
    " military observers said.",
    20,
    story="launch",
)
TRAIN = _variant(
    GULF,
    "Kim Jong Un's armoured train crosses into Russia",
    "North Korean leader Kim Jong Un crossed into Russia aboard his armoured train on Tuesday for a visit to"
    " meet Vladimir Putin, Russian state media said.",
    30,
    story="train",
)
COSMODROME = _variant(
    BALTIC,
    "Putin heads to Vostochny cosmodrome",
    "Russian President Vladimir Putin flew to the Vostochny cosmodrome in the Amur region, where he will"
    " receive a foreign leader for talks, the Kremlin said.",
    35,
    story="cosmodrome",
)
SUMMIT = _variant(
    PARIS,
    "Putin receives Kim at Vostochny cosmodrome in the Amur region",
    "Russian President Vladimir Putin received Kim Jong Un at the Vostochny cosmodrome in the Amur region for"
    " talks, the Kremlin said; the armoured train crossed into Russia on Tuesday.",
    40,
    story="summit",
)
LAUNCH_AT_SUMMIT = _variant(
    GULF,
    "North Korea fires two ballistic missiles into the sea as Kim meets Putin",
    "North Korea fired two short-range ballistic missiles into the sea off its east coast on Wednesday while"
    " Kim Jong Un met Vladimir Putin at the Vostochny cosmodrome.",
    50,
    story="launch-at-summit",
)


def test_a_chain_of_merges_restores_to_the_same_state_and_expires_whole(classifier: Classifier) -> None:
    run = Run(classifier)
    for item in [*BACKGROUND, LAUNCH, TRAIN, COSMODROME, SUMMIT, LAUNCH_AT_SUMMIT]:
        run.process(item)
    state = run.state
    merged = [sid for a in run.articles.values() for sid in a.merged_stories]
    assert len(merged) >= 2, "the scenario must chain merges"
    assert all(target in state.book for target in state.aliases.values()), "aliases point at live stories"
    assert set(state.aliases) == set(merged)

    restored = _state()
    restored.restore(list(run.articles.values()), list(run.alerts.values()))
    assert restored.aliases == state.aliases
    for story_id in {a.story_id for a in run.articles.values()} - set(state.aliases):
        assert restored.book.view(story_id) == state.book.view(story_id)
        assert restored.ledger.latest(story_id) == state.ledger.latest(story_id)
    follow_up = _variant(
        CORPUS.outlets["asia-monitor"],
        LAUNCH_AT_SUMMIT.title,
        LAUNCH_AT_SUMMIT.summary + " More follows.",
        55,
        story="next",
    )
    live = [(a.watchfloor.alert_id, a.watchfloor.reason) for a in run.process(follow_up)[2]]
    after_restart = [
        (a.watchfloor.alert_id, a.watchfloor.reason) for a in Run(classifier, restored).process(follow_up)[2]
    ]
    assert after_restart == live

    state.expire(T0 + timedelta(days=14))
    assert (len(state.book), state.aliases, len(state.ledger), len(state.events)) == (0, {}, 0, 0)


# Two reports of one summit in two languages, sharing the kind of event (a leader visit) and its actors:
# the link places the second in the first's story.
SUMMIT_ARRIVAL = _variant(
    GULF,
    "Kim Jong Un arrives in Russia for a summit with Putin",
    "North Korea's leader Kim Jong Un arrived in Russia for a summit with President Vladimir Putin.",
    300,
    story="summit-arrival",
)
SUMMIT_TALKS = _variant(
    PARIS,
    "Putin przyjął Kim Dzong Una na kosmodromie",
    "Prezydent Rosji Władimir Putin przyjął przywódcę Korei Północnej Kim Dzong Una na kosmodromie"
    " Wostocznyj. Rozmowy trwały kilka godzin.",
    320,
    story="summit-talks",
)
PUTIN_OTHER = _variant(
    BALTIC,
    "Putin hosts Modi in Moscow",
    "Vladimir Putin received Indian prime minister Narendra Modi in Moscow for a state visit.",
    330,
    story="putin-modi",
)


def test_a_report_of_the_same_kind_of_event_about_the_same_actors_joins_its_story(
    classifier: Classifier,
) -> None:
    for item in (SUMMIT_ARRIVAL, SUMMIT_TALKS, PUTIN_OTHER):
        topics = {t["topic"] for t in analyse(classifier, item).topics}
        assert "leader_visit" in topics, item.title
    ledger = _state().ledger
    unlinked = Run(classifier, PipelineState(ledger, event_params=EventParams(link_actors=99)))
    arrival = unlinked.placed(SUMMIT_ARRIVAL).story.story_id
    assert unlinked.placed(SUMMIT_TALKS).story.story_id != arrival, "by their words alone: two stories"

    run = Run(classifier)
    summit = run.placed(SUMMIT_ARRIVAL).story.story_id
    assert run.placed(SUMMIT_TALKS).story.story_id == summit
    assert run.placed(PUTIN_OTHER).story.story_id != summit, "one leader in common is another visit"


MISSILE = _variant(
    BALTIC,
    "North Korea fires a ballistic missile as Kim meets Putin in Russia",
    "North Korea fired a ballistic missile into the sea on Wednesday while leader Kim Jong Un was in Russia"
    " for a summit with President Vladimir Putin.",
    310,
    story="launch",
)
MISSILES_AGAIN = _variant(
    GULF,
    "North Korea launches two ballistic missiles toward the sea",
    "The launch came as leader Kim Jong Un held a summit with President Vladimir Putin in Russia.",
    340,
    story="second-launch",
)
# Names the summit and the launch: alike enough to both to have merged them.
SUMMIT_AND_MISSILE = _variant(
    PARIS,
    "Kim and Putin hold talks at a Russian cosmodrome",
    "Kim Jong Un and Vladimir Putin held talks in Russia on Wednesday; North Korea also fired a ballistic"
    " missile.",
    350,
    story="summit-and-launch",
)


def test_a_launch_during_a_summit_is_an_event_of_its_own_however_alike_the_words(
    classifier: Classifier,
) -> None:
    kinds = {
        item.title: headline_kinds(item.title, analyse(classifier, item).topics, EventParams())
        for item in (SUMMIT_ARRIVAL, MISSILE, MISSILES_AGAIN, SUMMIT_AND_MISSILE)
    }
    assert kinds == {
        SUMMIT_ARRIVAL.title: {"leader_visit"},
        MISSILE.title: {"weapons_test"},
        MISSILES_AGAIN.title: {"weapons_test"},
        SUMMIT_AND_MISSILE.title: {"leader_visit"},
    }, "the main clause's kind: the summit in MISSILE's headline is context"
    ungated = Run(classifier, PipelineState(_state().ledger, event_params=EventParams(kind_gate=False)))
    arrival = ungated.placed(SUMMIT_ARRIVAL).story.story_id
    assert ungated.placed(MISSILE).story.story_id == arrival, "by words and actors alone: one story"

    run = Run(classifier)
    summit = run.placed(SUMMIT_ARRIVAL).story.story_id
    launch = run.placed(MISSILE).story.story_id
    assert launch != summit
    assert run.placed(MISSILES_AGAIN).story.story_id == launch
    placed = run.placed(SUMMIT_AND_MISSILE)
    assert (placed.story.story_id, placed.merged) == (summit, ()), "two kinds of event do not merge"

    restored = _state()
    restored.restore(list(run.articles.values()), list(run.alerts.values()))
    third = _variant(
        BALTIC, "North Korea fires more ballistic missiles", MISSILES_AGAIN.summary, 360, story="3"
    )
    assert Run(classifier, restored).placed(third).story.story_id == launch, "kinds are restored"


DIGEST = _variant(
    BALTIC,
    "Libya: thousands missing in the east; dams burst above Derna",
    BRIDGE.summary,
    220,
    story="libya-digest",
)


def test_a_digest_that_names_two_stories_joins_one_and_merges_none(classifier: Classifier) -> None:
    assert digest(DIGEST.title) and not digest(BRIDGE.title)
    run, dams, missing = _libya_after_background(classifier)
    placed = run.placed(DIGEST)
    assert placed.story.story_id in {dams, missing} and placed.merged == ()
    assert run.state.resolve(missing) == missing and run.state.resolve(dams) == dams


ROUNDUP = _variant(
    BALTIC,
    "Morning live briefing: thousands missing in Libya; dams burst above Derna",
    BRIDGE.summary,
    220,
    story="libya-roundup",
)


def test_a_roundup_of_several_events_is_a_story_of_its_own_that_nothing_joins(classifier: Classifier) -> None:
    run, dams, missing = _libya_after_background(classifier)
    roundup = run.placed(ROUNDUP).story.story_id
    assert roundup not in {dams, missing}, "it reports neither event: joining one would put both in it"
    later = _variant(
        BALTIC,
        "Thousands still missing in Libya after dams burst above Derna",
        "Rescue teams searched Derna in eastern Libya for thousands missing after the two dams burst.",
        240,
        story="libya-later",
    )
    assert run.placed(later).story.story_id in {dams, missing}, "a report of one of them does not join it"


def test_a_report_linked_by_its_actors_goes_to_the_story_more_outlets_report(classifier: Classifier) -> None:
    run = Run(classifier)
    summit = run.placed(SUMMIT_ARRIVAL).story.story_id
    welcome = _variant(
        CORPUS.outlets["asia-monitor"],
        "Putin welcomes Kim Jong Un to Russia for summit talks",
        "Vladimir Putin welcomed North Korea's leader Kim Jong Un to Russia for a summit.",
        305,
        story="welcome",
    )
    assert run.placed(welcome).story.story_id == summit
    launch = run.placed(MISSILE).story.story_id
    assert launch != summit and launch < summit, "by id alone the launch would take the report"
    views = {sid: run.state.book.view(sid) for sid in (summit, launch)}
    talks = analyse(classifier, SUMMIT_TALKS)
    shared = [set(views[sid].actor_ids) & {a.id for a in talks.actors} for sid in (summit, launch)]
    assert shared[0] == shared[1] and len(shared[0]) >= EventParams().link_actors, "a tie on actors"
    assert run.placed(SUMMIT_TALKS).story.story_id == summit


def _index_finds(monkeypatch: pytest.MonkeyPatch, run: Run, found: list[EventMatch]) -> None:
    """The event index answers every report with `found` (read at each call, so a test may change it)."""
    monkeypatch.setattr(run.state.events, "matches", lambda *_args, **_kw: found)


def test_a_report_placed_only_by_a_storys_defining_words_merges_nothing(
    classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Run(classifier)
    dams, missing = _libya_apart(run)
    # What the index would find for a weak report: one story by its defining words below the merge
    # threshold, the other above the merge threshold but below the join threshold.
    p = run.state.event_params
    weak = [EventMatch(missing, p.merge_threshold + 0.01), EventMatch(dams, p.merge_threshold - 0.05, True)]
    assert not weak[0].places(p) and weak[1].places(p)
    _index_finds(monkeypatch, run, weak)
    placed = run.placed(BRIDGE)
    assert (placed.story.story_id, placed.merged) == (dams, ())
    assert run.state.resolve(missing) == missing


def test_a_story_matched_only_by_its_defining_words_is_not_merged_into_the_reports(
    classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Run(classifier)
    dams, missing = _libya_apart(run)
    p = run.state.event_params
    found = [EventMatch(dams, p.threshold + 0.05), EventMatch(missing, p.merge_threshold - 0.05, True)]
    _index_finds(monkeypatch, run, found)
    placed = run.placed(BRIDGE)
    assert (placed.story.story_id, placed.merged) == (dams, ())
    found[1] = EventMatch(missing, p.merge_threshold + 0.01)
    again = _variant(GULF, BRIDGE.title, BRIDGE.summary + " More soon.", 230, story="bridge-again")
    assert run.placed(again).merged == (missing,), "a match at the merge threshold does merge"
