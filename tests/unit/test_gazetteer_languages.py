"""The gazetteer's names in each rule language: the CLDR file is the generator's current output, and names
are found in their case forms in documents of their language only."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from pipeline.classify import Classifier

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
GENERATOR = DEPLOY / "gazetteer" / "gen_countries.py"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_dir(DEPLOY)


def test_committed_cldr_names_are_the_generators_output() -> None:
    spec = importlib.util.spec_from_file_location("gen_countries", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (DEPLOY / "gazetteer" / "countries-cldr.yaml").read_text(encoding="utf-8")
    assert committed == module.render(), "run .venv/bin/python deploy/gazetteer/gen_countries.py"


@pytest.mark.parametrize(
    ("language", "text", "actor"),
    [
        ("pl", "Rakiety Korei Północnej", "PRK"),
        ("pl", "sankcje wobec Rosji", "RUS"),
        ("pl", "w Stanach Zjednoczonych", "USA"),
        ("pl", "z Nową Zelandią", "NZL"),
        ("uk", "санкції проти Росії", "RUS"),
        ("uk", "до Сполучених Штатів", "USA"),
        ("ru", "в Венесуэле", "VEN"),
        ("de", "die Armee der Vereinigten Staaten", "USA"),
        ("de", "Russlands Präsident", "RUS"),
        ("de", "in den Vereinigten Arabischen Emiraten", "ARE"),
        ("fr", "les sanctions contre l'Iran", "IRN"),
        ("fr", "la Corée du Nord", "PRK"),
        ("es", "el presidente de Perú", "PER"),
        ("es", "la Republica Dominicana", "DOM"),
    ],
)
def test_country_names_match_their_case_forms(
    classifier: Classifier, language: str, text: str, actor: str
) -> None:
    assert actor in classifier.classify("", text, language=language).actor_ids


@pytest.mark.parametrize(
    ("language", "text", "person"),
    [
        ("pl", "rozmowy z Kim Dzong Unem", "kim-jong-un"),
        ("pl", "wizyta Kim Jong Una", "kim-jong-un"),
        ("pl", "spotkanie z Władimirem Putinem", "vladimir-putin"),
        ("pl", "doradca Zełenskiego", "volodymyr-zelensky"),
        ("pl", "spotkanie Scholza z Sunakiem", "olaf-scholz"),
        ("pl", "spotkanie Scholza z Sunakiem", "rishi-sunak"),
        ("pl", "wizyta króla Karola III", "charles-iii"),
        ("pl", "rozmowa z Dmytrem Kułebą", "dmytro-kuleba"),
        ("pl", "premier Mateusz Morawiecki", "mateusz-morawiecki"),
        ("pl", "z prezydentem Petrem Pavlem", "petr-pavel"),
        ("uk", "зустріч з Путіним", "vladimir-putin"),
        ("de", "Selenskyjs Rede", "volodymyr-zelensky"),
        ("fr", "Vladimir Poutine a reçu", "vladimir-putin"),
        ("es", "Zelenski viajó", "volodymyr-zelensky"),
    ],
)
def test_leaders_match_their_spelling_and_case_forms(
    classifier: Classifier, language: str, text: str, person: str
) -> None:
    assert f"person:{person}" in classifier.classify("", text, language=language).actor_ids


def test_a_prefix_that_would_take_another_countrys_name_stays_exact(classifier: Classifier) -> None:
    # 'Niger*' would accept 'Nigerii' (Nigeria's genitive): Niger is matched as written.
    assert classifier.classify("", "w Nigerii i w Nigrze", language="pl").actor_ids == ["NGA"]
    assert classifier.classify("", "rząd Nigru i Niger", language="pl").actor_ids == ["NER"]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "children ate chili and polski sausages"),  # 'Chil*' and 'Polsk*' are Polish only
        ("pl", "wypił kubek herbaty i czadu"),  # lower case: a mug, carbon monoxide
        ("pl", "Kuba i Dominika grali w piłkę"),  # first names, left out of the generated file
        ("uk", "того ж дня"),
        ("fr", "Maurice et Dominique sont partis"),
        ("es", "Mauricio vive en Granada"),
        ("fr", "les paris sportifs et la poutine"),
    ],
)
def test_no_country_from_words_and_first_names(classifier: Classifier, language: str, text: str) -> None:
    assert classifier.classify("", text, language=language).actor_ids == []
