import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.events import (
    NAMED,
    DocumentFrequencies,
    EventIndex,
    EventParams,
    Features,
    features,
    headline_kinds,
    speaker,
)
from schemas.article import ActorRef

P = EventParams()
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
PUTIN_EN = ActorRef(id="person:vladimir-putin", name="Vladimir Putin", type="person")
PUTIN_PL = ActorRef(id="person:vladimir-putin", name="Władimir Putin", type="person")
RUS = ActorRef(id="RUS", name="Russia", type="country")


def test_names_come_from_case_inside_sentences_not_from_a_title_in_title_case() -> None:
    plain = features("Floods hit the port of Derna", "", [], P)
    titled = features("Floods Hit The Port Of Derna", "", [], P)
    assert len(plain) == len(titled) + 1, "only the sentence-case title marks Derna as a name"
    in_text = features("", "Rescuers reached Derna on Tuesday.", [], P)
    sentence_start = features("", "Derna was reached by rescuers on Tuesday.", [], P)
    assert len(in_text) == len(sentence_start) + 1, "a capital at a sentence's start says nothing"


def test_a_sentence_initial_word_is_a_name_once_the_stream_knows_it_as_one() -> None:
    title, text = "Okafor delays the port levy", "Okafor said the levy would wait a year."
    base = features(title, text, [], P)
    index = EventIndex(P)

    def known(stream: EventIndex) -> Features:
        return features(title, text, [], P, lambda key: stream.knows_name(key, T0))

    assert known(index) == base, "a stream that never saw it"
    for n in range(3):
        index.observe(features("", f"Minister Okafor spoke on day {n}.", [], P), T0)
    learned = known(index)
    name = {key for key in features("", "Then Okafor left.", [], P) if key & NAMED}
    assert set(learned) - set(base) == name and learned.keys() >= base.keys(), "the name, added"
    off = EventIndex(replace(P, known_name_docs=0))
    off.frequencies = index.frequencies
    assert known(off) == base


def test_gazetteer_actors_are_one_feature_in_any_language_and_countries_weigh_less() -> None:
    assert features("", "", [PUTIN_EN], P) == features("", "", [PUTIN_PL], P)
    [(_, person)] = features("", "", [PUTIN_EN], P).items()
    [(_, country)] = features("", "", [RUS], P).items()
    assert person == P.name_weight and country == P.country_weight


def test_title_words_weigh_more_and_stopwords_and_numbers_are_dropped() -> None:
    assert features("", "the 2023 says and", [], P) == {}
    [(key, title)] = features("floods", "", [], P).items()
    assert features("", "flooding", [], P) == {key: 1.0}, "cut to the prefix: one stem"
    assert title == pytest.approx(1 + math.log(P.title_weight)), "a title word counts as title_weight words"


def test_short_words_inflected_in_english_and_headline_abbreviations_are_one_term() -> None:
    groups = (
        ("ban", "bans", "banned", "banning"),
        ("deny", "denies", "denied"),
        ("dam", "dams"),
        ("press", "pressing"),
        ("fall", "falls", "falling"),
        ("earthquake", "quake", "quakes"),
    )
    terms = [{frozenset(features("", form, [], P)) for form in forms} for forms in groups]
    assert [len(t) for t in terms] == [1] * len(groups), "each word's forms: one term"
    assert len(set().union(*terms)) == len(groups), "and different words stay apart"


def test_idf_falls_as_a_feature_spreads_and_recovers_as_it_decays() -> None:
    df = DocumentFrequencies(P)
    df.add([1], T0)
    rare = df.idf(1, T0)
    for n in range(20):
        df.add([2, 1] if n % 2 else [2], T0)
    assert df.idf(2, T0) < df.idf(1, T0) < rare
    later = T0 + 4 * P.half_life
    assert df.idf(2, later) > df.idf(2, T0), "a day-old everywhere-word weighs more again"
    df.expire(T0 + 20 * P.half_life)
    assert len(df) == 0


def _vector(*keys: int) -> dict[int, float]:
    return dict.fromkeys(keys, 1.0)


def test_matches_rank_by_similarity_then_id_and_skip_stories_out_of_the_news() -> None:
    index = EventIndex(P)
    index.add("b", _vector(1, 2, 3), T0)
    index.add("a", _vector(1, 2, 3), T0)
    index.add("c", _vector(1, 9, 8), T0)
    found = index.matches(_vector(1, 2, 3), T0)
    assert [m.story_id for m in found] == ["a", "b"]
    assert found[0].similarity == pytest.approx(1.0)
    late = T0 + P.max_gap + timedelta(minutes=1)
    assert index.matches(_vector(1, 2, 3), late) == []


def test_merge_moves_the_centroid_and_its_postings_and_forget_drops_them() -> None:
    index = EventIndex(P)
    index.add("old", _vector(1, 2), T0)
    index.add("new", _vector(3, 4), T0 + timedelta(hours=1))
    index.merge("new", "old")
    assert len(index) == 1
    assert [m.story_id for m in index.matches(_vector(3, 4), T0)] == ["old"]
    index.forget(["old"])
    assert index.matches(_vector(1, 2, 3, 4), T0) == []


def test_a_centroid_keeps_only_its_heaviest_features() -> None:
    index = EventIndex(EventParams(centroid_terms=2))
    index.add("s", {1: 3.0, 2: 2.0, 3: 1.0}, T0)
    assert index.matches(_vector(3), T0) == [], "the lightest feature was dropped and finds nothing"
    assert [m.story_id for m in index.matches(_vector(1), T0)] == ["s"]


def test_a_statement_joins_only_a_story_its_speaker_is_a_principal_of() -> None:
    assert speaker("Durbin slams House GOP as 'out of control'", P) is not None
    assert speaker("Sen. Mitt Romney says he won't run again", P) == speaker("Romney calls it quits", P)
    assert speaker("Floods hit Derna as dams burst", P) is None
    index = EventIndex(P)
    romney = features("Romney to retire from the Senate", "Mitt Romney will retire, he said.", [], P)
    index.add("romney", romney, T0)
    reaction = features("Trump knocks Romney over retirement", "", [], P)
    own = features("Romney says he will retire from the Senate", "", [], P)
    assert [m.story_id for m in index.matches(reaction, T0)] == ["romney"], "similar enough by itself"
    assert index.matches(reaction, T0, speaker("Trump knocks Romney over retirement", P)) == []
    said = speaker("Romney says he will retire from the Senate", P)
    assert [m.story_id for m in index.matches(own, T0, said)] == ["romney"]


def test_a_report_in_another_language_joins_by_the_names_and_actors_it_shares() -> None:
    kim = ActorRef(id="person:kim-jong-un", name="Kim Jong Un", type="person")
    english = features(
        "Kim Jong Un meets Putin in Russia's far east",
        "North Korea's leader Kim Jong Un met President Putin in Russia's far east.",
        [kim, PUTIN_EN, RUS],
        P,
    )
    polish = features(
        "Spotkanie Putina z Kim Dzong Unem",
        "Prezydent Putin przyjął przywódcę Kim Jong Una.",
        [kim, PUTIN_PL, RUS],
        P,
    )
    index = EventIndex(P)
    index.add("summit", english, T0, "en")
    [match] = index.matches(polish, T0, language="pl")
    assert match.story_id == "summit" and match.similarity >= P.threshold
    russia_only = features("Rosja ogłosiła nowe ćwiczenia", "Ćwiczenia potrwają tydzień.", [RUS], P)
    assert index.matches(russia_only, T0, language="pl") == [], "one country in common is not the event"
    other = features(
        "Powódź w Libii", "Tysiące ofiar w Dernie.", [ActorRef(id="LBY", name="Libia", type="country")], P
    )
    assert index.matches(other, T0, language="pl") == []


def test_a_headline_quoting_its_speaker_or_pundits_is_a_statement() -> None:
    assert speaker("Schiff: inquiry is a way to cling to the gavel", P) == speaker("Schiff says no", P)
    assert speaker("Mike Pence: the party must hold the line", P) == speaker("Pence warns the party", P)
    labels = ("Photos: the aftermath of the storm", "READ: the memo to the networks", "Live: latest updates")
    for label in labels:
        assert speaker(label, P) is None, label
    assert speaker("Russia-Ukraine War: Talks Stall As Shelling Goes On", P) is None, "Title Case: no telling"
    assert speaker("China key to any arms deal, experts say", P) == speaker("Trade to slow, analyst says", P)
    assert speaker("Dozens dead after floods, officials say", P) is None, "officials report the occasion"
    reactions = (
        "Arms pact sparks warnings from the West",
        "New deal draws fierce blowback",
        "Outrage over ban",
        "Indictment sparks calls for aid to be suspended",
    )
    assert {speaker(title, P) for title in reactions} == {speaker("Summit prompts criticism", P)} != {None}
    assert speaker("Fire draws crowds to the harbour", P) is None, "a reaction is warnings, outrage…"
    for own in ("Premier faces backlash over plan to delay the ban", "Minister facing fury over the delay"):
        assert speaker(own, P) is None, f"the occasion's own actor faces it: {own}"
    whip = speaker("Harlow says no", P)
    assert speaker("Harlow, the party's whip, calls for the minister to resign", P) == whip, "an apposition"
    assert speaker("Harlow declines to call for the minister to resign", P) == whip
    assert speaker("Harlow fires back at the minister", P) == whip
    assert speaker("Harlow vows support for the minister", P) is None, "a pledge is an occasion's outcome"
    roundups = ("Up First briefing: inquiry opens; floods in Libya; cold remedies", "Politics live: a; b")
    assert {speaker(title, P) for title in roundups} == {speaker("World live: one; two", P)} != {None}
    for one_event in ("Libya live briefing: dams burst", "Floods destroy a quarter of Derna; toll rises"):
        assert speaker(one_event, P) is None, one_event


def test_a_story_opened_by_a_statement_merges_only_where_its_speaker_is_a_principal() -> None:
    index = EventIndex(P)
    inquiry = features("House opens impeachment inquiry", "The House opened an impeachment inquiry.", [], P)
    index.add("inquiry", inquiry, T0)
    title = "Goldman says there is no evidence for the impeachment inquiry"
    index.add("goldman", features(title, "Rep. Dan Goldman spoke.", [], P), T0, speaker=speaker(title, P))
    index.add("vote", features("House inquiry vote", "", [], P), T0)
    assert not index.mergeable("inquiry", "goldman") and not index.mergeable("goldman", "inquiry")
    assert index.mergeable("inquiry", "vote"), "stories no one's statement opened may merge"
    own_title = "Goldman says he will run for the Senate"
    index.add("run", features(own_title, "Dan Goldman will run.", [], P), T0, speaker=speaker(own_title, P))
    assert index.mergeable("goldman", "run"), "the speaker is a principal of both"


def test_a_statement_story_others_report_too_is_an_occasion_that_may_merge() -> None:
    index = EventIndex(P)
    index.add("inquiry", features("House opens impeachment inquiry", "The House voted.", [], P), T0)
    title = "Analysts see an impeachment fight ahead, experts say"
    index.add("fight", features(title, "", [], P), T0, speaker=speaker(title, P))
    assert not index.mergeable("inquiry", "fight")
    index.add("fight", features("House impeachment inquiry opens", "", [], P), T0)
    assert index.mergeable("inquiry", "fight"), "a report without the speaker made it an occasion"


def test_a_story_of_one_speakers_statements_takes_a_report_only_where_the_speaker_is_its_principal() -> None:
    index = EventIndex(P)
    title = "China is key to any Russia arms deal, experts say"
    pundits = speaker(title, P)
    index.add("comment", features(title, "Russia seeks arms from North Korea.", [], P), T0, speaker=pundits)
    report = features(
        "Russia seeks an arms deal with North Korea", "Russia and North Korea held talks.", [], P
    )
    assert index.matches(report, T0) == [], "the pundits are no principal of a report of the occasion"
    owner = EventIndex(replace(P, statement_owner=False))
    owner.add("comment", features(title, "Russia seeks arms from North Korea.", [], P), T0, speaker=pundits)
    assert [m.story_id for m in owner.matches(report, T0)] == ["comment"], "alike enough by itself"

    romney = "Romney says he will not run for the Senate again"
    index.add("romney", features(romney, "Mitt Romney will retire.", [], P), T0, speaker=speaker(romney, P))
    retires = features("Mitt Romney to retire from the Senate", "Romney will not run again.", [], P)
    assert "romney" in [m.story_id for m in index.matches(retires, T0)], "the speaker's own occasion"


def test_a_report_of_one_kind_of_event_skips_stories_of_other_kinds_only() -> None:
    index = EventIndex(P)
    summit = features("Kim meets Putin in Russia", "Kim Jong Un met Vladimir Putin in Russia.", [PUTIN_EN], P)
    index.add("summit", summit, T0, kinds=frozenset({"leader_visit"}))
    index.add("untold", summit, T0)
    launch = features(
        "Kim fires a missile as he meets Putin", "Kim Jong Un met Vladimir Putin in Russia.", [], P
    )
    missile = frozenset({"weapons_test"})
    assert [m.story_id for m in index.matches(launch, T0)] == ["summit", "untold"]
    assert [m.story_id for m in index.matches(launch, T0, kinds=missile)] == ["untold"]
    assert index.holding([PUTIN_EN.id], T0) == ["summit", "untold"]
    assert index.holding([PUTIN_EN.id], T0, kinds=missile) == ["untold"]
    index.add("launch", launch, T0, kinds=missile)
    assert not index.mergeable("summit", "launch") and index.mergeable("untold", "launch")
    visit = frozenset({"leader_visit"})
    index.merge("launch", "untold")
    assert index.holding([PUTIN_EN.id], T0, kinds=visit) == ["summit"], "a merge keeps the kinds"
    index.add("summit", launch, T0, kinds=missile)
    assert index.mergeable("summit", "untold"), "a story that reported both kinds is kin to either"


def test_a_short_report_carrying_a_storys_defining_terms_joins_it_below_the_threshold() -> None:
    index = EventIndex(P)
    titles = (
        "Morocco earthquake kills thousands",
        "Rescuers dig after Morocco earthquake",
        "Earthquake in Morocco",
    )
    for title in titles:
        index.add("quake", features(title, "Villages in the mountains were flattened.", [], P), T0)
    index.add("vote", features("Morocco votes in local elections", "Turnout was high.", [], P), T0)
    report = features(
        "Morocco earthquake survivors fear for their livelihoods", "Tourism may not return.", [], P
    )
    [match] = [m for m in index.matches(report, T0) if m.story_id == "quake"]
    assert match.defined and P.defining_floor <= match.similarity < P.threshold
    assert match.places(P) and not replace(match, defined=False).places(P)
    undefined = EventIndex(replace(P, defining_terms=0))
    undefined.add("quake", features("Morocco earthquake kills thousands", "Rescuers search.", [], P), T0)
    assert not any(m.places(undefined.params) for m in undefined.matches(report, T0))
    seen_all = EventIndex(replace(P, merge_threshold=0.0))
    for title in titles:
        seen_all.add("quake", features(title, "Villages in the mountains were flattened.", [], P), T0)
    other = features("Morocco mourns", "The king spoke of villages in the south.", [], P)
    [near] = seen_all.matches(other, T0)
    assert P.defining_floor <= near.similarity < P.threshold and not near.defined
    assert not near.places(P), "alike enough, but one of the two words is not the story"


def _explained(topic: str, title_spans: list[tuple[int, int]], body: bool = False) -> dict[str, object]:
    """A topic as the classifier explains it: one contribution per span here, weight 2 each, threshold 4."""
    spans = [{"field": "title", "start": a, "end": b} for a, b in title_spans]
    extra = [{"field": "text", "start": 0, "end": 5}] if body else []
    return {
        "topic": topic,
        "threshold": 4.0,
        "contributions": [{"weight": 2.0, "spans": [span, *extra]} for span in spans],
    }


def test_headline_kinds_read_the_main_clause_after_a_lead_label_in_any_case() -> None:
    title = "North Korea fires ballistic missile as Kim meets Putin"
    missile = _explained("weapons_test", [(18, 35)])
    visit = _explained("leader_visit", [(39, 43), (44, 49)])
    assert headline_kinds(title, [missile, visit], P) == {"weapons_test"}, "the visit is context"
    repeated = _explained("weapons_test", [(18, 35)], body=True)
    assert headline_kinds(title, [repeated], P) == {"weapons_test"}, "a lede repeating it changes nothing"
    upper = "North Korea Fires Ballistic Missile As Kim Meets Putin"
    assert headline_kinds(upper, [missile, visit], P) == {"weapons_test"}, "Title Case cuts the same"
    labelled = "Korea crisis: Kim meets Putin as missiles fly"
    meeting = _explained("leader_visit", [(14, 17), (18, 23)])
    assert headline_kinds(labelled, [meeting], P) == {"leader_visit"}, "the lead label is not the clause"
    weak = _explained("weapons_test", [(18, 35)])
    weak["threshold"] = 5.0
    assert headline_kinds(title, [weak], P) == set(), "below kind_share of the threshold"
