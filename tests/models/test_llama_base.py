"""The shared llama.cpp base: what llama.cpp reports about placement, the RAM check that leaves
GPU-resident layers out, and the shared runtime pieces (on the CPU build of this machine)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from models import providers
from models.errors import ModelConfigError, ModelOutOfMemoryError
from models.llama_base import (
    LlamaBase,
    OffloadReport,
    check_chat_gguf,
    open_llama,
    parse_load_log,
    ram_share,
)
from models.llm import LlamaChatModel
from models.protocols import ChatMessage
from models.validate import read_gguf

# Lines exactly as llama.cpp b-0.3.36's llama_model::load_tensors logs them on a CUDA build
# (a partial offload of a 24-layer model) — the CPU build of this machine never prints them.
CUDA_LOG = (
    "load_tensors: loading model tensors, this can take a while... (mmap = true)\n"
    "load_tensors: offloading output layer to GPU\n"
    "load_tensors: offloading 9 repeating layers to GPU\n"
    "load_tensors: offloaded 10/25 layers to GPU\n"
    "load_tensors:        CUDA0 model buffer size =   210.51 MiB\n"
    "load_tensors:   CPU_Mapped model buffer size =   280.00 MiB\n"
)


def test_offload_lines_are_parsed() -> None:
    done, total, buffers = parse_load_log(CUDA_LOG)
    assert (done, total) == (10, 25)
    assert buffers == {"CUDA0": 210.51, "CPU_Mapped": 280.0}
    report = OffloadReport(10, done, total, buffers, flash_attn=True, op_offload=True)
    assert report.on_gpu and report.gpu_mib == pytest.approx(210.51)
    assert "10/25" in report.describe() and "partial" in report.describe()
    full = OffloadReport(-1, 25, 25, {"CUDA0": 480.0}, flash_attn=True, op_offload=True)
    assert full.describe().startswith("GPU: 25/25")


def test_no_offload_line_means_the_build_cannot_offload() -> None:
    line = "load_tensors:   CPU_Mapped model buffer size = 1.5 MiB\n"
    done, total, buffers = parse_load_log(line)
    assert (done, total) == (None, None) and buffers == {"CPU_Mapped": 1.5}
    report = OffloadReport(0, None, None, buffers)
    assert not report.on_gpu and report.gpu_mib == 0.0
    assert report.describe().startswith("CPU")


def test_real_load_reports_what_llama_cpp_did(tiny_gguf: Path, caplog) -> None:
    """On this CPU build llama.cpp logs no offload line and a CPU weight buffer; its log goes
    to Python logging (warnings and up), not to the terminal."""
    caplog.set_level(logging.INFO, logger="llama.cpp")
    llm, report = open_llama(tiny_gguf, n_ctx=64, device="cpu")
    try:
        assert report.requested_layers == 0 and not report.op_offload and not report.flash_attn
        assert any(name.upper().startswith("CPU") for name in report.buffers)
        assert not report.on_gpu
        if not providers.llama_gpu_supported():
            assert report.offloaded is None
    finally:
        llm.close()


def test_chat_model_keeps_its_offload_report(tiny_gguf: Path) -> None:
    with LlamaChatModel(tiny_gguf, context_tokens=128, device="cpu") as model:
        assert isinstance(model, LlamaBase)
        assert model.offload_report is not None and not model.offload_report.on_gpu
        model.complete([ChatMessage("user", "hello")], max_tokens=3, temperature=0)
        stats = model.last_stats
        assert stats is not None and 1 <= stats.generated_tokens <= 3
        assert stats.prompt_tokens > 0


def test_ram_share_leaves_offloaded_layers_out(tiny_gguf: Path) -> None:
    info = read_gguf(tiny_gguf)
    layers = int(info.get("{arch}.block_count")) + 1
    assert ram_share(info, 0) == 1.0
    assert ram_share(info, -1) == 0.0
    assert ram_share(info, 1) == pytest.approx((layers - 1) / layers)
    assert ram_share(info, 10_000) == 0.0


def test_memory_check_does_not_count_gpu_weights(tiny_gguf: Path) -> None:
    size = tiny_gguf.stat().st_size
    # a third of the file's RAM is enough when everything is offloaded (token embeddings stay)
    with pytest.raises(ModelOutOfMemoryError):
        check_chat_gguf(tiny_gguf, 64, gpu_layers=0, available=size // 3)
    check_chat_gguf(tiny_gguf, 64, gpu_layers=-1, available=size // 3)


def test_cpu_forced_turns_op_offload_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # the build's capability is the boundary faked here: this machine has a CPU-only build
    monkeypatch.setattr(providers, "llama_gpu_supported", lambda: True)
    forced = providers.llama_offload("cpu")
    assert forced.n_gpu_layers == 0 and not forced.op_offload and not forced.flash_attn
    assert forced.kwargs()["offload_kqv"] is False
    auto = providers.llama_offload("auto")
    assert auto.n_gpu_layers == -1 and auto.op_offload and auto.flash_attn


def test_partial_offload_from_setting_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(providers, "llama_gpu_supported", lambda: True)
    monkeypatch.setenv(providers.LAYERS_ENV_VAR, "12")
    assert providers.llama_offload("gpu").n_gpu_layers == 12
    assert providers.llama_offload("gpu", 5).kwargs()["n_gpu_layers"] == 5
    providers.set_gpu_layers(3)
    try:
        assert providers.llama_offload("auto").n_gpu_layers == 3
        assert providers.placement("auto").describe().count("first 3 layers") == 1
    finally:
        providers.set_gpu_layers(None)
    monkeypatch.setenv(providers.LAYERS_ENV_VAR, "lots")
    with pytest.raises(ModelConfigError):
        providers.requested_gpu_layers()
    with pytest.raises(ModelConfigError):
        providers.set_gpu_layers(-5)


def test_cpu_build_never_offloads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(providers, "llama_gpu_supported", lambda: False)
    monkeypatch.setenv(providers.LAYERS_ENV_VAR, "12")
    plan = providers.llama_offload("auto")
    assert plan.n_gpu_layers == 0 and not plan.op_offload
    place = providers.placement("auto")
    assert not place.llama_gpu and "no GPU backend" in place.describe()
