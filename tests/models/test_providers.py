"""Execution-provider choice and the description of what runs where."""

from __future__ import annotations

import pytest

from models import providers
from models.errors import ModelConfigError, ModelNotInstalledError

ALL = ["CPUExecutionProvider", "OpenVINOExecutionProvider", "CUDAExecutionProvider"]


def test_preference_order_intersected_with_available() -> None:
    assert providers.choose_onnx_providers("auto", ALL) == [
        "CUDAExecutionProvider", "OpenVINOExecutionProvider", "CPUExecutionProvider"]  # fmt: skip
    assert providers.choose_onnx_providers("cpu", ALL) == ["CPUExecutionProvider"]
    assert providers.choose_onnx_providers("gpu", ALL)[0] == "CUDAExecutionProvider"
    mac = ["CoreMLExecutionProvider", "CPUExecutionProvider", "AzureExecutionProvider"]
    assert providers.choose_onnx_providers("auto", mac) == mac[:2]


def test_gpu_requested_without_one_is_a_clear_error() -> None:
    with pytest.raises(ModelNotInstalledError):
        providers.choose_onnx_providers("gpu", ["CPUExecutionProvider"])


def test_real_onnxruntime_on_this_machine() -> None:
    chosen = providers.choose_onnx_providers("auto")
    assert chosen[-1] == "CPUExecutionProvider"
    assert set(chosen) <= set(providers.available_onnx_providers())


def test_device_setting_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(providers.ENV_VAR, "cpu")
    providers.set_device(None)
    assert providers.current_device() == "cpu"
    providers.set_device("auto")
    assert providers.current_device() == "auto"
    with pytest.raises(ModelConfigError):
        providers.set_device("npu")
    providers.set_device(None)


def test_llama_offload_follows_the_build() -> None:
    supported = providers.llama_gpu_supported()
    assert providers.llama_gpu_layers("cpu") == 0
    assert providers.llama_gpu_layers("auto") == (-1 if supported else 0)
    if not supported:
        with pytest.raises(ModelNotInstalledError):
            providers.llama_gpu_layers("gpu")


def test_placement_describes_both_runtimes() -> None:
    place = providers.placement("cpu")
    text = place.describe()
    assert "device=cpu" in text and "ONNX models: CPU" in text and "llama.cpp models: CPU" in text
    assert not place.llama_gpu and place.llama_layers == 0
    assert place.llama_threads == providers.physical_cores() >= 1


def test_placement_without_onnxruntime_does_not_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime → ImportError
    assert providers.available_onnx_providers() == []
    place = providers.placement("auto")
    assert place.onnx_providers == [] and not place.onnx_installed
    assert "onnxruntime is not installed" in place.describe()
