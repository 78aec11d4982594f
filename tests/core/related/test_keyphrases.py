"""Keyphrase extraction: Korean particle stripping, candidates, embedding-based ranking.

The embedder is a deterministic tiny hashing embedder at the TextEmbedder Protocol boundary.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.related.keyphrases import candidates, extract
from tests.fixtures.embedders import BigramEmbedder as HashEmbedder

KO = (
    "임종석은 1989년 여의도 농민 시위를 주도한 혐의로 지명수배되었다. 경찰은 경희대학교에서 "
    "임종석을 검거했다. 임종석의 구속은 서울지방검찰청 공안부가 집행했다. 경희대학교 학생회관에서"
    " 임종석이 발견되었다."
)


def test_korean_particles_are_stripped_and_predicates_dropped():
    found = candidates(KO)
    assert found["임종석"][0] == 4  # 임종석은/을/의/이 are one word
    assert "경희대학교" in found
    assert "시위" in found and "시위를" not in found
    assert not any(p.endswith(("되었다", "했다")) for p in found)
    assert not any(p[0].isdigit() for p in found)  # dates are not topics


def test_multiword_phrase_does_not_cross_a_particle():
    found = candidates("서울지방검찰청 공안부가 영장을 발부했다. 서울지방검찰청 공안부는 발표했다.")
    assert found["서울지방검찰청 공안부"][0] == 2
    assert not any("공안부 영장" in p for p in found)


def test_english_stopwords_and_markup():
    found = candidates("The [[Coffee roasting|roasting]] of coffee beans: see https://x.y/z now.")
    assert "coffee" in found and "the" not in found
    assert not any("https" in p for p in found)


def test_statistical_ranking_without_embedder():
    phrases = [k.text for k in extract(KO, top=3)]
    assert phrases[0] == "임종석"
    assert len(phrases) == 3 and len(set(phrases)) == 3


def test_embedding_ranking_prefers_on_topic_phrases():
    text = "Coffee beans and coffee roasting. Coffee roasting needs heat. Weather was nice."
    emb = HashEmbedder()
    top = extract(text, embedder=emb, top=2, diversity=0.0)
    assert top[0].text.startswith("coffee")
    doc = emb.embed_passages([text])[0]
    assert top[0].score == pytest.approx(float(np.dot(emb.embed_queries([top[0].text])[0], doc)))
    assert all("weather" not in k.text for k in top)


def test_empty_and_symbol_only_text():
    assert extract("") == []
    assert extract("!!! ... 123 456", embedder=HashEmbedder()) == []
