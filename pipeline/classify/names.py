"""Capitalised personal names after a title ('President Cyril Ramaphosa', 'Emir Tamim bin Hamad Al Thani').

A leader the gazetteer does not know is still recognisable by a title followed by a name. A name is a run of
capitalised words, with the lower-case particles of Arabic, Romance, Dutch and German names inside it (never
at its end), and at most `MAX_WORDS` words. Only spaces and hyphens join its words to each other and to the
title: in "Travis King: North Korea to deport…" or "Travis King, U.S. soldier" no name follows "King".
"""

from __future__ import annotations

from pipeline.classify.text import Tokens

MAX_WORDS = 6
PARTICLES = frozenset(
    {
        "al",
        "bin",
        "bint",
        "ibn",
        "abu",
        "da",
        "de",
        "del",
        "der",
        "di",
        "dos",
        "du",
        "el",
        "la",
        "le",
        "van",
        "von",
    }
)


_JOINERS = " -\u00a0\u2010\u2011"


def name_end(tokens: Tokens, start: int) -> int:
    """The end of the name that begins at token `start` (after a title), or `start` if none does."""
    surfaces, starts, ends, text = tokens.surfaces, tokens.starts, tokens.ends, tokens.text
    end = start
    i = start
    limit = min(len(surfaces), start + MAX_WORDS)
    while i < limit:
        word = surfaces[i]
        if i and text[ends[i - 1] : starts[i]].strip(_JOINERS):
            break
        if word[0].isupper() and not word.isdigit():
            i += 1
            end = i
        elif word in PARTICLES and end > start:
            i += 1
        else:
            break
    return end
