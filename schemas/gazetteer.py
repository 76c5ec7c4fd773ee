"""The actor gazetteer: countries (names, demonyms, capitals and seats of power as metonyms) and people.

Aliases use the rule-pack pattern syntax (`schemas.rules.TermSpec`). An entry's own aliases apply in every
language, so one list carries English spellings, transliterations and native scripts (`Путин*`, `김정은*`);
a `languages` section adds aliases that apply only to documents in one language (Polish case forms).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.rules import Term

_ISO3 = re.compile(r"^[A-Z]{3}$")
_PERSON = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Country(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    iso3: str
    name: str
    names: tuple[Term, ...] = Field(min_length=1)
    demonyms: tuple[Term, ...] = ()
    metonyms: tuple[Term, ...] = Field(default=(), description="Capitals and seats of power: 'the Kremlin'.")
    veto: tuple[Term, ...] = Field(
        default=(), description="Context that cancels an alias hit nearby, e.g. 'Atlanta' for Georgia."
    )
    veto_window: int = Field(default=12, ge=1, le=100)

    @field_validator("iso3")
    @classmethod
    def _iso3(cls, value: str) -> str:
        if not _ISO3.match(value):
            raise ValueError("iso3 must be an ISO 3166-1 alpha-3 code such as 'PRK'")
        return value


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Slug; the actor id is 'person:<id>'.")
    name: str
    country: str
    role: str = Field(description="Office, with 'as of' when it may have changed.")
    aliases: tuple[Term, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _PERSON.match(value):
            raise ValueError("person id must be a lower-case hyphenated slug such as 'kim-jong-un'")
        return value

    @field_validator("country")
    @classmethod
    def _iso3(cls, value: str) -> str:
        if not _ISO3.match(value):
            raise ValueError("country must be an ISO 3166-1 alpha-3 code such as 'PRK'")
        return value


class LocalCountry(BaseModel):
    """A country's aliases in one language, added to its entry's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iso3: str
    names: tuple[Term, ...] = ()
    demonyms: tuple[Term, ...] = ()
    metonyms: tuple[Term, ...] = ()


class LocalPerson(BaseModel):
    """A person's aliases in one language, added to their entry's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    aliases: tuple[Term, ...] = Field(min_length=1)


class Language(BaseModel):
    """Aliases that apply only to documents in `language`: case forms by prefix ('Rosj*', 'Putin*') would
    misread other languages' words ('Chil*' is Chile in Polish, 'children' in English)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code, as articles carry it.")
    countries: tuple[LocalCountry, ...] = ()
    people: tuple[LocalPerson, ...] = ()


class Gazetteer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    countries: tuple[Country, ...]
    people: tuple[Person, ...] = ()
    languages: tuple[Language, ...] = ()

    @model_validator(mode="after")
    def _unique_and_resolved(self) -> Gazetteer:
        codes = [c.iso3 for c in self.countries]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate country codes: {duplicates}")
        ids = [p.id for p in self.people]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate person ids")
        unknown = sorted({p.country for p in self.people} - set(codes))
        if unknown:
            raise ValueError(f"people refer to countries not in the gazetteer: {unknown}")
        for language in self.languages:
            unknown = sorted({c.iso3 for c in language.countries} - set(codes))
            unknown += sorted({p.id for p in language.people} - set(ids))
            if unknown:
                raise ValueError(
                    f"language {language.language!r} names unknown countries or people: {unknown}"
                )
        return self


class GazetteerFile(BaseModel):
    """One gazetteer file (``deploy/gazetteer/*.yaml``), for its JSON Schema: the loader merges every file
    into one `Gazetteer`, whose cross-file checks (unique codes, known countries) a schema cannot state."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    countries: tuple[Country, ...] = ()
    people: tuple[Person, ...] = ()
    languages: tuple[Language, ...] = ()
