"""Writes countries-cldr.yaml: every gazetteer country's name in each rule language, from CLDR (`babel`).

    .venv/bin/python deploy/gazetteer/gen_countries.py

CLDR gives one nominative name per country and language. Patterns are made from it so that they match in
running text: in Polish, Ukrainian and Russian each word of a name loses its final vowel (or soft sign)
and becomes a prefix, so 'Korea Północna' matches 'Korei Północnej' and 'Росія' matches 'Росії'; a stem
shorter than four letters stays exact ('Kuba' would become 'Kub*': 'kubek'), as does a stem that would
also accept another country's name ('Niger*' and 'Nigeria'). German names also match their genitive
('Russlands'), and multi-word names their inflected forms ('der Vereinigten Arabischen Emirate*'); French and
Spanish names match as written and without accents. Every pattern is case-sensitive: country names are
capitalised in these languages, and their lower-case twins are common words ('czad', 'чад', 'chile').
CLDR has no adjectives (demonyms): those are hand-written per language, next to this file (pl.yaml, ...).

A unit test fails when the committed file differs from this script's output.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import yaml
from babel import Locale
from babel.core import get_global

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "countries-cldr.yaml"
SLAVIC = ("pl", "uk", "ru")
LANGUAGES = ("pl", "uk", "ru", "de", "fr", "es")
MIN_STEM = 4
# Final letters a Slavic case ending replaces ('Rosja' -> 'Rosji', 'Білорусь' -> 'Білорусі').
_ENDINGS = frozenset("aeiouyąęóśćńź" + "аяоеєиіїуюыьй")
# ISO codes CLDR does not map from alpha-3 (Kosovo has a user-assigned code).
_ALPHA2 = {"XKX": "XK"}
# Names that are also first names or other places, and the lower-case words that some names are, left
# out: 'Dominika' and 'Maurice' are people more often than Dominica and Mauritius, 'Granada' is a city in
# Spain, 'Grenade' a weapon, 'Togo' in Cyrillic the Russian and Ukrainian for 'of that'.
EXCLUDED = {
    "pl": {"Dominika", "Kuba"},
    "uk": {"Того", "Домініка"},  # noqa: RUF001 (Cyrillic, as the text is)
    "ru": {"Того", "Доминика"},  # noqa: RUF001
    "de": {"Dominica"},
    "fr": {"Dominique", "Maurice", "Grenade"},
    "es": {"Dominica", "Mauricio", "Granada"},
}


def codes() -> list[str]:
    """The alpha-3 codes of the hand-written gazetteer files' countries."""
    found: list[str] = []
    for path in sorted(HERE.glob("*.yaml")):
        if path != OUTPUT:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            found += [country["iso3"] for country in data.get("countries", [])]
    return sorted(found)


def alpha2(iso3: str) -> str | None:
    """The CLDR territory of a country, or None (the Soviet Union has none)."""
    targets = get_global("territory_aliases").get(iso3, [])
    return _ALPHA2.get(iso3) or (targets[0] if len(targets) == 1 else None)


def names(language: str, territory: str) -> list[str]:
    """The CLDR name, split at a parenthesis ('Mjanma (Birma)') and with dashes as spaces."""
    name = Locale(language).territories[territory]
    parts = [part.strip(" )") for part in name.split("(")]
    return [re.sub(r"\s*[-\u2010-\u2015]\s*", " ", part) for part in parts if part not in EXCLUDED[language]]


def slavic_word(word: str, shortest: int = MIN_STEM) -> str:
    """The word as a prefix of its case forms: without a final vowel or soft sign, or whole after a
    consonant; exact if that leaves a stem shorter than `shortest`."""
    if len(word) <= 2 or not word[-1].isalpha():
        return word
    stem = word[:-1] if word[-1].lower() in _ENDINGS else word
    return stem + "*" if len(stem) >= shortest else word


def patterns(language: str, name: str, others: list[str]) -> dict[str, object]:
    """One name's pattern (with variants) in one language; `others` are the words of other countries'
    names in that language, which a one-word prefix must not accept."""
    words = name.split()
    if language in SLAVIC:
        # In a longer name a short word is safe: the name is found by its longest word.
        shortest = MIN_STEM if len(words) == 1 else 3
        pattern = " ".join(slavic_word(word, shortest) for word in words)
        stem = pattern.rstrip("*")
        if len(words) == 1 and any(o != name and o.startswith(stem) for o in others):
            pattern = name
        return _term(pattern)
    if language == "de":
        if len(words) > 1:
            # 'Vereinigte Arabische Emirate': 'den Vereinigten Arabischen Emiraten'.
            inflected = [re.sub(r"(?<=isch|nigt)(e|es)$", "*", w) for w in words[:-1]]
            return _term(" ".join([*inflected, words[-1] + "*"]))
        return _term(name, [] if name[-1] in "sxzß" else [name + "s"])
    plain = _without_accents(name)
    return _term(name, [plain] if plain != name else [])


def _term(pattern: str, variants: list[str] | None = None) -> dict[str, object]:
    return {"pattern": pattern, **({"variants": variants} if variants else {}), "case_sensitive": True}


def _without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def render() -> str:
    territories = {iso3: territory for iso3 in codes() if (territory := alpha2(iso3))}
    sections = []
    for language in LANGUAGES:
        all_names = {iso3: names(language, territory) for iso3, territory in territories.items()}
        countries = []
        for iso3, own in all_names.items():
            others = [
                w for code, listed in all_names.items() if code != iso3 for n in listed for w in n.split()
            ]
            terms = [patterns(language, name, others) for name in own]
            if terms:
                countries.append({"iso3": iso3, "names": terms})
        sections.append({"language": language, "countries": countries})
    header = (
        f"# Generated from CLDR {get_global('cldr')['version']} (babel) by gen_countries.py: do not edit,\n"
        "# run `.venv/bin/python deploy/gazetteer/gen_countries.py`. Country names in each rule language\n"
        "# but English (countries.yaml, countries-world.yaml) and Korean (particles attach to CLDR's names\n"
        "# in ways a prefix cannot tell apart: 인도* is also 인도네시아); adjectives and capitals are\n"
        "# hand-written per language (pl.yaml, ...)."
    )
    lines = [header, "languages:"]
    for section in sections:
        lines += [f"  - language: {section['language']}", "    countries:"]
        lines += [f"      - {_flow(country)}" for country in section["countries"]]
    return "\n".join(lines) + "\n"


def _flow(value: object) -> str:
    """One country on one line, so the file reads as a table."""
    return yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=1_000, sort_keys=False
    ).strip()


if __name__ == "__main__":
    OUTPUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT}\n")
