"""The query language: filters, phrases, bad input, FTS quoting, Korean stems."""

from __future__ import annotations

import pytest

from core.errors import (
    BadInputError,
    EmptyInputError,
    InputTooLargeError,
    MalformedInputError,
    UnknownNameError,
)
from core.search.query import english_stem, fts_terms, korean_stem, parse_query, trigram_terms


def test_filters_and_words_are_separated() -> None:
    q = parse_query('receipt kind:photo tag:#Food after:2024-6 before:2024-09 near:"New York"')
    assert q.words == ["receipt"]
    assert q.kinds == {"photo"}
    assert q.tags == ["food"]
    assert q.after == "2024-06" and q.before == "2024-09"
    assert q.near == "New York"


def test_phrases_keep_their_words() -> None:
    q = parse_query('"ice coffee" seoul')
    assert q.phrases == ["ice coffee"]
    assert q.words == ["ice", "coffee", "seoul"]


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        ("", EmptyInputError, "Type something"),
        ("   ", EmptyInputError, "Type something"),
        ("?!… ---", EmptyInputError, "no words"),
        ('"', EmptyInputError, "no words"),
        ("*", EmptyInputError, "no words"),
        ("x" * 10_000, InputTooLargeError, "too long"),
        ("colour:red", UnknownNameError, "Unknown filter 'colour:'"),
        ("kind:video", UnknownNameError, "kind:note or kind:photo"),
        ("after:yesterday", MalformedInputError, "not a date"),
        ("after:2024-13", MalformedInputError, "month"),
        ("after:2025 before:2024", MalformedInputError, "not before"),
        ("tag:", MalformedInputError, "needs a value"),
    ],
)
def test_bad_queries_raise_clear_errors(raw: str, error: type[BadInputError], message: str) -> None:
    # the type says what is wrong; the sentence, shown as typed in the palette, says how to fix it
    with pytest.raises(error, match=message):
        parse_query(raw)


def test_fts_operators_are_quoted_as_words() -> None:
    q = parse_query('NEAR( AND OR * "')
    terms = fts_terms(q.words)
    assert all(t.startswith('"') for t in terms.words)
    assert '"near"' in terms.words
    assert fts_terms(["AND"]).words == ['"and"']  # a lone operator word is searched as a word


def test_urls_are_not_filters() -> None:
    q = parse_query("see https://example.com/page")
    assert "example" in q.words


def test_korean_particles_are_stripped_and_prefix_matched() -> None:
    assert korean_stem("서울에서") == "서울"
    assert korean_stem("커피를") == "커피"
    assert korean_stem("바다") == "바다"  # a one-syllable ending stays on a short word
    terms = fts_terms(["서울에서", "커피를"])
    assert terms.words == ['"서울"*', '"커피"*']
    assert trigram_terms(["아이스커피를"]) == ['"아이스커피"']


def test_english_light_stemming() -> None:
    assert english_stem("inhibits") == "inhibit"
    assert english_stem("studies") == "study"
    assert english_stem("glass") == "glass"
    assert fts_terms(["the", "cells"]).words == ['"cell"*']
