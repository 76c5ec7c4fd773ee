"""Near-duplicate clustering. Every fixture text was written for these tests, about fictional places."""

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from pipeline.boilerplate import BoilerplateFilter
from pipeline.cluster import ClusterDoc, ClusterParams, StoryIndex, signature, similarity
from pipeline.textnorm import normalise, normalised_sentences, tokens

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)

WIRE = [
    "Norvania's leader Aldan Voss may travel to the neighbouring republic of Castrel next month for talks "
    "on a long-stalled arms control agreement, three officials familiar with the planning said on Monday.",
    "The visit, which has not been formally announced, would be the first by a Norvanian head of state to "
    "Castrel in more than a decade and follows months of quiet contacts between the two defence ministries.",
    "Officials said the draft agenda includes limits on medium-range rocket deployments near the shared "
    "border, a hotline between military commanders and advance notice of large exercises.",
    "One official cautioned that the trip could still be postponed if negotiators fail to settle a dispute "
    "over inspection rights at two storage depots in the northern highlands.",
    "Castrel's foreign ministry declined to comment on the timing but said in a short statement that it "
    "remains open to any dialogue that reduces the risk of miscalculation.",
    "Analysts in the capital, Verrin, said the talks reflect growing pressure on both governments from "
    "rising fuel prices and the cost of keeping thousands of troops on alert along the frontier.",
    '"Neither side can afford another year of this standoff," said Mirela Tosk, a security researcher at '
    "the Institute for Regional Studies.",
    "Voss last met his Castrelian counterpart, President Ilan Brek, at a regional summit in March, where "
    "the two men spoke for less than twenty minutes.",
    "A previous round of arms negotiations collapsed four years ago after a border incident in which two "
    "soldiers were killed.",
    "The officials spoke on condition of anonymity because they were not authorised to discuss the "
    "preparations publicly.",
]

WIRE_FOOTER = "Reporting by the Verrin bureau; editing by the world desk."
NATIONAL_FOOTER = (
    "Sign up for the Harbour Times morning briefing to get the day's top stories in your inbox. "
    "Follow us for live updates on every platform. Copyright 2026 Harbour Times Media Group. "
    "All rights reserved. This material may not be published, broadcast, rewritten or redistributed."
)
REGIONAL_FOOTER = (
    "Support independent local journalism in the valley: become a member of the Valley Courier today."
)


def _national_copy() -> str:
    """Two words changed, a sentence added after the ministry's comment."""
    body = [
        s.replace("may travel", "could travel").replace("said on Monday", "told us on Monday") for s in WIRE
    ]
    body.insert(5, "The Norvanian presidency did not respond to a request for comment on Monday evening.")
    return " ".join(body)


def _regional_copy() -> str:
    """The analyst quote cut, a phrase reworded."""
    body = [s for s in WIRE if "Mirela Tosk" not in s]
    return " ".join(s.replace("quiet contacts", "discreet contacts") for s in body)


def _doc(
    item_id: str, title: str, text: str, source: str, tier: str = "national", at: datetime = T0
) -> ClusterDoc:
    return ClusterDoc(item_id, title, text, source, tier, at)


def _wire_copies() -> list[ClusterDoc]:
    return [
        _doc(
            "wire-1",
            "Norvanian leader weighs trip to Castrel for arms control talks",
            " ".join(WIRE) + "\n" + WIRE_FOOTER,
            "wire-a",
            "wire",
        ),
        _doc(
            "nat-1",
            "Voss could visit Castrel next month as arms talks revive",
            _national_copy() + "\n" + NATIONAL_FOOTER,
            "harbour-times",
            "national",
            T0 + timedelta(minutes=40),
        ),
        _doc(
            "reg-1",
            "Border arms deal on the table as Voss eyes rare trip",
            _regional_copy() + "\n" + REGIONAL_FOOTER,
            "valley-courier",
            "regional",
            T0 + timedelta(hours=2),
        ),
    ]


# Same outlet, unrelated topics, one shared footer.
UNRELATED = [
    (
        "Dock workers walk out at Port Selby",
        "Dock workers at Port Selby began a 48-hour strike at dawn over night-shift pay, leaving eleven "
        "container ships waiting at anchor. The union says wages have fallen behind rents in the harbour "
        "district for three years running. The port authority called the action unlawful and asked a court "
        "to order crews back to work. Exporters of frozen fish warned that cargo could spoil within days.",
    ),
    (
        "Central bank holds rates as inflation cools",
        "The Bank of Norvania left its benchmark lending rate unchanged at 4.25 percent on Thursday after "
        "consumer prices rose more slowly than forecast in April. Governor Petra Lind told a news conference "
        "that the board wanted to see two more months of data before considering a cut. Bond yields slipped "
        "after the announcement and the currency was steady against the euro.",
    ),
    (
        "Wildfire forces evacuation of hill villages",
        "Firefighters battled a wildfire on the slopes above Kessa for a second night as strong winds pushed "
        "the flames toward three hill villages. About 900 residents were moved to a sports hall in the town, "
        "and two water-bombing aircraft were sent from the coast. No injuries have been reported, the "
        "regional civil protection office said.",
    ),
    (
        "Opposition wins mayoral run-off in Dunmere",
        "Opposition candidate Jonas Rell won the mayoral run-off in Dunmere with 54 percent of the vote, "
        "ending two decades of rule by the governing party in the country's second city. Turnout was the "
        "highest in a local election since 2009. Rell promised to publish every municipal contract online "
        "within his first hundred days.",
    ),
]

# Short feed summaries of two more unrelated stories, padded by the same footer.
SHORT = [
    ("Ferry service resumes", "The island ferry resumed sailings on Friday after repairs to its ramp."),
    ("Museum reopens", "The city museum reopened its east wing with a show of medieval maps."),
]

# Same topic, different events: templated wire phrasing, different day, place, type and details.
MISSILE_A = (
    "Norvania fired a short-range ballistic missile into the sea off its eastern coast on Tuesday morning, "
    "the Castrel joint military staff said. The missile flew about 350 kilometres and reached an altitude of "
    "50 kilometres before splashing down outside Castrel's economic zone, the staff said in a statement. It "
    "was launched from near the port town of Sulem shortly after 7 a.m. Castrel's military said it had "
    "strengthened surveillance and was sharing information closely with its allies. The launch was the "
    "first since Norvania announced new artillery drills along the border last week."
)
MISSILE_B = (
    "Norvania launched two cruise missiles over the western gulf on Saturday evening, the Castrel joint "
    "military staff said. The missiles flew for about two hours in circling patterns before striking a "
    "target island, according to the staff, which said it was analysing the flight data. They were fired "
    "from an inland site near the city of Darro. Castrel's military said it had strengthened surveillance "
    "and was sharing information closely with its allies. State television in Norvania later showed the "
    "defence minister watching the test from a bunker."
)


def _story_id(item_id: str) -> str:
    return "st-" + hashlib.sha256(item_id.encode()).hexdigest()[:20]


# Text normalisation


def test_normalise_folds_unicode_case_and_punctuation() -> None:
    assert (
        normalise("  \u201cCeasefire\u201d \u2014 TALKS\u2026 Stra\u00dfe\tﬁnal!! ")
        == "ceasefire talks strasse final"
    )


def test_tokens_drop_stopwords() -> None:
    assert tokens("The talks in Verrin were said to be over.") == ["talks", "verrin", "over"]


# Signatures


def test_signature_is_64_uint32_and_identical_text_scores_one() -> None:
    sig = signature("Title", " ".join(WIRE))
    assert sig.dtype == np.uint32
    assert sig.shape == (64,)
    assert similarity(sig, signature("Title", " ".join(WIRE))) == 1.0


def test_similarity_estimates_shingle_jaccard() -> None:
    # Stopword-free distinct words: 98 3-grams each, 48 shared, so the true Jaccard is 48 / 148 = 0.32.
    a = " ".join(f"w{i}" for i in range(100))
    b = " ".join(f"w{i}" for i in range(50, 150))
    assert similarity(signature("", a), signature("", b)) == pytest.approx(48 / 148, abs=0.2)
    c = " ".join(f"z{i}" for i in range(100))
    assert similarity(signature("", a), signature("", c)) < 0.1


def test_empty_documents_are_never_similar() -> None:
    assert similarity(signature("", ""), signature("", "")) == 0.0


def test_signature_does_not_depend_on_the_process_hash_seed() -> None:
    code = (
        "from pipeline.cluster import signature; print(signature('Arms talks', 'Voss to Castrel').tolist())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {str(signature("Arms talks", "Voss to Castrel").tolist()) + "\n"}


# Story assignment


def test_wire_copies_with_new_headlines_and_edits_form_one_story() -> None:
    index = StoryIndex()
    results = [index.assign(doc) for doc in _wire_copies()]
    assert [r.is_new_story for r in results] == [True, False, False]
    assert {r.story_id for r in results} == {_story_id("wire-1")}
    story = results[-1].story
    assert story.articles == 3
    assert story.sources == ("harbour-times", "valley-courier", "wire-a")
    assert story.tiers == ("national", "regional", "wire")
    assert story.first_seen == T0
    assert story.last_seen == T0 + timedelta(hours=2)
    assert all(r.similarity >= index.params.threshold for r in results[1:])
    assert len(index) == 1


def test_copy_carrying_only_the_lede_joins_through_the_lede_signature() -> None:
    index = StoryIndex()
    index.assign(_wire_copies()[0])
    teaser = _doc("agg-1", "Voss eyes Castrel visit", " ".join(WIRE[:2]), "aggregator", "regional")
    full = signature("", " ".join(WIRE))
    # The body estimate alone would reject it; the lede match is what joins it.
    assert similarity(signature("Voss eyes Castrel visit", " ".join(WIRE[:2])), full) < index.params.threshold
    result = index.assign(teaser)
    assert not result.is_new_story
    assert result.story_id == _story_id("wire-1")


def test_unrelated_stories_sharing_an_outlet_footer_stay_apart() -> None:
    index = StoryIndex()
    results = [
        index.assign(
            _doc(f"ht-{i}", title, body + "\n" + NATIONAL_FOOTER, "harbour-times", at=T0 + timedelta(hours=i))
        )
        for i, (title, body) in enumerate(UNRELATED)
    ]
    assert all(r.is_new_story for r in results)
    assert len({r.story_id for r in results}) == len(UNRELATED)
    assert max(r.similarity for r in results) < index.params.threshold


def _short_items_after_learning_the_footer(params: ClusterParams) -> list[bool]:
    index = StoryIndex(params)
    for i, (title, body) in enumerate(UNRELATED[:2]):
        index.assign(_doc(f"ht-{i}", title, body + "\n" + NATIONAL_FOOTER, "harbour-times"))
    return [
        index.assign(_doc(f"hs-{i}", title, body + "\n" + NATIONAL_FOOTER, "harbour-times")).is_new_story
        for i, (title, body) in enumerate(SHORT)
    ]


def test_boilerplate_filter_keeps_short_unrelated_items_apart() -> None:
    assert _short_items_after_learning_the_footer(ClusterParams()) == [True, True]
    # Without the filter the shared footer dominates the two short summaries and merges them.
    assert _short_items_after_learning_the_footer(ClusterParams(boilerplate_min_stories=None)) == [
        True,
        False,
    ]


def test_same_topic_different_events_are_different_stories() -> None:
    index = StoryIndex()
    first = index.assign(
        _doc("m-1", "Norvania fires ballistic missile into sea", MISSILE_A, "wire-a", "wire")
    )
    second = index.assign(
        _doc(
            "m-2",
            "Norvania fires cruise missiles over gulf",
            MISSILE_B,
            "wire-a",
            "wire",
            T0 + timedelta(days=4),
        )
    )
    assert second.is_new_story
    assert {first.story_id, second.story_id} == {_story_id("m-1"), _story_id("m-2")}


def test_replay_in_the_same_order_yields_the_same_story_ids() -> None:
    docs = _wire_copies() + [
        _doc(f"ht-{i}", title, body + "\n" + NATIONAL_FOOTER, "harbour-times")
        for i, (title, body) in enumerate(UNRELATED)
    ]
    runs = [[StoryIndex().assign(doc).story_id for doc in docs] for _ in range(2)]
    index = StoryIndex()
    runs.append([index.assign(doc).story_id for doc in docs])
    assert runs[0] == runs[1]
    assert runs[2] == [_story_id("wire-1")] * 3 + [_story_id(f"ht-{i}") for i in range(len(UNRELATED))]


def test_ttl_expiry_follows_event_time_of_the_last_article() -> None:
    index = StoryIndex(ClusterParams(ttl=timedelta(hours=72)))
    copies = _wire_copies()
    index.assign(copies[0])
    late = ClusterDoc(
        "nat-1", copies[1].title, copies[1].text, "harbour-times", "national", T0 + timedelta(hours=24)
    )
    index.assign(late)
    assert index.expire(T0 + timedelta(hours=95)) == []  # last article at +24 h keeps it until +96 h
    assert len(index.expire(T0 + timedelta(hours=97))) == 1
    assert len(index) == 0
    again = index.assign(copies[2])
    assert again.is_new_story
    assert again.story_id == _story_id("reg-1")


def test_expire_requires_an_aware_watermark() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        StoryIndex().expire(datetime(2026, 5, 4))  # noqa: DTZ001


def test_state_stays_under_one_kilobyte_per_story() -> None:
    index = StoryIndex()
    for doc in _wire_copies():
        index.assign(doc)
    for i, (title, body) in enumerate(UNRELATED):
        index.assign(_doc(f"ht-{i}", title, body, "harbour-times"))
    assert len(index) == 1 + len(UNRELATED)
    assert 384 < index.state_bytes() / len(index) <= 1024  # two signatures alone are 384 bytes


# Boilerplate filter


def test_normalised_sentences_split_lines_and_sentences() -> None:
    assert normalised_sentences("Talks END today!  Really?\n\n\u00a9 2026 Harbour Times.\n...") == [
        "talks end today",
        "really",
        "2026 harbour times",
    ]


def test_boilerplate_needs_repeats_across_distinct_stories_of_one_source() -> None:
    bp = BoilerplateFilter(min_stories=2)
    hashes, kept = bp.split("src", "A new bridge opened today.\nAll rights reserved.")
    assert kept == ["a new bridge opened today", "all rights reserved"]
    bp.record("src", hashes, "story-1")
    bp.record("src", hashes, "story-1")  # an update of the same story does not make it boilerplate
    rain_hashes, kept = bp.split("src", "Rain is due. All rights reserved.")
    assert kept == ["rain is due", "all rights reserved"]
    bp.record("src", rain_hashes, "story-2")
    assert bp.split("src", "Snow is due. All rights reserved.")[1] == ["snow is due"]
    assert bp.split("other-src", "Snow is due. All rights reserved.")[1] == [
        "snow is due",
        "all rights reserved",
    ]


def test_boilerplate_memory_is_capped() -> None:
    bp = BoilerplateFilter(min_stories=1, max_sentences=2, max_sources=1)
    bp.record("src", bp.split("src", "One. Two. Three.")[0], "s")
    assert bp.split("src", "One. Three.")[1] == ["one"]  # "one" was evicted, "three" is remembered
    bp.record("other", [], "s")
    assert bp.split("src", "Three.")[1] == ["three"]  # the whole source was evicted


@pytest.mark.parametrize("first", ["wire-global", "daily-courier", "asia-monitor"])
def test_a_follow_up_opening_like_the_wire_joins_whichever_copy_opened_the_story(first: str) -> None:
    """The courier's copy rewrote the first paragraph; a later independent report quoting the wire's
    opening must still find the story when that copy happened to arrive first."""
    from connectors.demo.corpus import Corpus

    corpus = Corpus.load()
    canonical = {a.outlet: a for a in corpus.articles if a.story == "kim-putin-arms-talks"}
    follow_up = next(a for a in corpus.articles if a.story == "kremlin-kim-visit-response")
    order = [first, *sorted(o for o in canonical if o != first and o != follow_up.outlet)]
    index = StoryIndex()
    ids = set()
    for n, outlet in enumerate(order):
        a = canonical[outlet]
        ids.add(
            index.assign(
                ClusterDoc(f"{outlet}-k", a.title, a.text, outlet, "wire", T0 + timedelta(minutes=n))
            ).story_id
        )
    joined = index.assign(
        ClusterDoc(
            "follow-up",
            follow_up.title,
            follow_up.text,
            follow_up.outlet,
            "national",
            T0 + timedelta(hours=1),
        )
    )
    assert len(ids) == 1 and not joined.is_new_story and joined.story_id in ids
    assert joined.body_similarity < 0.7  # its own reporting: corroboration, not syndication


def test_a_linked_story_is_joined_only_when_no_text_matches() -> None:
    index = StoryIndex()
    wire = index.assign(_doc("w", "Kim may travel to Russia", " ".join(WIRE), "wire"))
    other = index.assign(
        _doc("o", "Harbour storm", "Storm closes the harbour; ferries are cancelled.", "local")
    )
    own_words = _doc(
        "r", "Seoul expects a summit", "Officials in Seoul expect the two leaders to meet soon.", "r"
    )
    linked = index.assign(own_words, linked=wire.story_id)
    assert (linked.story_id, linked.is_new_story, linked.linked) == (wire.story_id, False, True)
    assert linked.body_similarity == 0.0, "a linked report is independent, never a syndicated copy"
    assert linked.story.articles == 2
    copy = index.assign(_doc("c", "Kim may travel to Russia", " ".join(WIRE), "copy"), linked=other.story_id)
    assert (copy.story_id, copy.linked) == (wire.story_id, False), "text wins over a link"
    gone = index.assign(
        _doc("g", "Unrelated", "Completely different words about a museum.", "g"), linked="st-x"
    )
    assert gone.is_new_story, "a link to a story the index no longer has opens a new one"


def test_copies_of_a_linked_report_find_the_story_by_its_body() -> None:
    index = StoryIndex()
    wire = index.assign(_doc("w", "Kim may travel to Russia", " ".join(WIRE), "wire"))
    report = (
        "Officials in Seoul say the North Korean leader will board his armoured train within weeks, bound for"
        " a summit in the Russian Far East where ammunition supplies are expected to dominate the agenda and"
        " where both governments hope to sign agreements on labour, fisheries and rail links."
    )
    index.assign(_doc("r", "Seoul expects a Far East summit", report, "gulf"), linked=wire.story_id)
    copy = index.assign(_doc("c", "Seoul expects Far East summit", report + " Filed by the desk.", "copy"))
    assert (copy.story_id, copy.is_new_story, copy.linked) == (wire.story_id, False, False)
    assert copy.body_similarity >= 0.7, "a near-verbatim copy of the linked report: syndicated"

    restored = StoryIndex()
    restored.restore(_doc("w", "Kim may travel to Russia", " ".join(WIRE), "wire"), wire.story_id)
    restored.restore(_doc("r", "Seoul expects a Far East summit", report, "gulf"), wire.story_id)
    again = restored.assign(_doc("c2", "Seoul expects Far East summit", report + " Filed late.", "copy2"))
    assert (again.story_id, again.body_similarity >= 0.7) == (wire.story_id, True)
