"""Where models run: onnxruntime execution providers and llama.cpp GPU offload.

The choice is an ordered preference intersected with what the installed runtimes offer, so the
same code uses CUDA on a Linux box with an NVIDIA card, CoreML on a Mac and the CPU elsewhere.
``device`` is ``"auto"`` (best available), ``"gpu"`` (accelerators only, error if none) or
``"cpu"``. The ``SAEM_DEVICE`` environment variable sets the process default; the CLI's
``--device`` and the library setting ``models.device`` pass through :func:`set_device`.

llama.cpp placement is decided by :func:`llama_offload`: how many layers go to the GPU (all by
default, ``SAEM_GPU_LAYERS`` / :func:`set_gpu_layers` for a partial offload when the model does
not fit in video memory), flash attention on whenever layers are on a GPU, and — when the CPU
is forced — op offload off too (otherwise a GPU build still ships large prompt batches to the
GPU with zero layers there). What llama.cpp really did is read back from its own log
(:mod:`models.llama_base`), never inferred from what the build could do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from models.errors import ModelConfigError, ModelError, ModelNotInstalledError

PREFERENCE = (
    "CUDAExecutionProvider",
    "ROCMExecutionProvider",
    "CoreMLExecutionProvider",
    "DmlExecutionProvider",
    "OpenVINOExecutionProvider",
    "CPUExecutionProvider",
)
CPU = "CPUExecutionProvider"
DEVICES = ("auto", "gpu", "cpu")
ENV_VAR = "SAEM_DEVICE"
LAYERS_ENV_VAR = "SAEM_GPU_LAYERS"

_device: str | None = None
_gpu_layers: int | None = None


def set_device(device: str | None) -> None:
    """Set the process-wide device preference (None = back to ``$SAEM_DEVICE`` / auto)."""
    global _device
    if device is not None and device not in DEVICES:
        raise ModelConfigError(f"Unknown device {device!r}; use one of {', '.join(DEVICES)}.")
    _device = device


def current_device() -> str:
    device = _device or os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if device not in DEVICES:
        raise ModelConfigError(f"{ENV_VAR}={device!r} is not one of {', '.join(DEVICES)}.")
    return device


def onnxruntime_installed() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:  # third-party and optional for llama.cpp-only use
        return False
    return True


def available_onnx_providers() -> list[str]:
    """What onnxruntime offers here; [] when onnxruntime is not installed."""
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())


def choose_onnx_providers(
    device: str | None = None, available: list[str] | None = None
) -> list[str]:
    """Providers to pass to ``InferenceSession``, best first, CPU last as a fallback."""
    device = device or current_device()
    available = available_onnx_providers() if available is None else available
    ordered = [p for p in PREFERENCE if p in available]
    accelerators = [p for p in ordered if p != CPU]
    if device == "cpu":
        return [CPU]
    if device == "gpu":
        if not accelerators:
            raise ModelNotInstalledError(
                "No GPU execution provider is available to onnxruntime "
                f"(it offers {', '.join(available) or 'nothing'}); use --device cpu or auto."
            )
        return [*accelerators, CPU]
    return ordered or [CPU]


def llama_gpu_supported() -> bool:
    """True when this llama.cpp build can offload layers to a GPU (CUDA/Metal/Vulkan/…)."""
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except (ImportError, AttributeError, OSError):
        return False


def set_gpu_layers(layers: int | None) -> None:
    """Process-wide number of layers to offload (None = ``$SAEM_GPU_LAYERS`` or all)."""
    global _gpu_layers
    if layers is not None and layers < -1:
        raise ModelConfigError(f"GPU layers must be -1 (all), 0 or a positive count, not {layers}.")
    _gpu_layers = layers


def requested_gpu_layers() -> int:
    """-1 (all layers) unless a partial offload was asked for."""
    if _gpu_layers is not None:
        return _gpu_layers
    raw = os.environ.get(LAYERS_ENV_VAR, "").strip()
    if not raw:
        return -1
    try:
        layers = int(raw)
    except ValueError as exc:
        raise ModelConfigError(f"{LAYERS_ENV_VAR}={raw!r} is not a layer count.") from exc
    if layers < -1:
        raise ModelConfigError(f"{LAYERS_ENV_VAR}={raw!r} must be -1 (all), 0 or a positive count.")
    return layers


@dataclass(frozen=True)
class LlamaOffload:
    """The llama.cpp load/context settings for one device choice."""

    n_gpu_layers: int  # 0 = none, -1 = all, N = the first N (partial offload)
    op_offload: bool  # may llama.cpp run host-weight ops (big prompt batches) on the GPU?
    flash_attn: bool
    gpu_build: bool  # the installed llama.cpp has a GPU backend

    def kwargs(self) -> dict[str, Any]:
        return {
            "n_gpu_layers": self.n_gpu_layers,
            "op_offload": self.op_offload,
            "offload_kqv": self.n_gpu_layers != 0,
            "flash_attn": self.flash_attn,
        }


def llama_offload(device: str | None = None, layers: int | None = None) -> LlamaOffload:
    """Settings for llama.cpp: ``layers`` (None = the process setting) when the device allows a
    GPU; everything on the CPU — op offload included — when it is forced or there is none."""
    device = device or current_device()
    supported = llama_gpu_supported()
    if device == "gpu" and not supported:
        raise ModelNotInstalledError(
            "This llama.cpp build has no GPU support; reinstall llama-cpp-python with a GPU "
            "backend (e.g. CMAKE_ARGS=-DGGML_CUDA=on) or use --device cpu."
        )
    if device == "cpu" or not supported:
        return LlamaOffload(0, False, False, supported)
    n = requested_gpu_layers() if layers is None else layers
    if n < -1:
        raise ModelConfigError(
            f"GPU layers must be -1 (all), 0 (none) or a positive count, not {n}."
        )
    return LlamaOffload(n, n != 0, n != 0, supported)


def llama_gpu_layers(device: str | None = None) -> int:
    """``n_gpu_layers`` for llama.cpp (see :func:`llama_offload`)."""
    return llama_offload(device).n_gpu_layers


def physical_cores() -> int:
    """Physical CPU cores (llama.cpp runs best with one thread per core, not per SMT thread)."""
    cores: set[tuple[str, str]] = set()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            phys = core = ""
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "physical id":
                    phys = value
                elif key == "core id":
                    core = value
                    cores.add((phys, core))
    except OSError:
        pass
    logical = os.cpu_count() or 1
    if cores:
        return max(1, min(len(cores), logical))
    return max(1, logical // 2) if logical > 2 else logical


@dataclass(frozen=True)
class Placement:
    """What runs where, for ``saem models list`` / ``saem models device``: the *plan* for the
    next load. What a loaded llama.cpp model really got is its ``offload_report``."""

    device: str
    onnx_providers: list[str]  # [] when onnxruntime is missing or offers no matching provider
    llama_gpu: bool  # layers will be offloaded (a GPU build, the device allows it, layers != 0)
    llama_threads: int
    llama_layers: int = 0  # n_gpu_layers that will be asked for
    llama_gpu_build: bool = False
    onnx_installed: bool = True

    def onnx_label(self) -> str:
        first = self.onnx_providers[0] if self.onnx_providers else CPU
        return "GPU" if first != CPU else "CPU"

    def describe(self) -> str:
        onnx = ", ".join(p.removesuffix("ExecutionProvider") for p in self.onnx_providers)
        if not self.onnx_installed:
            onnx = "onnxruntime is not installed"
        onnx = onnx or "no GPU provider available"
        if self.llama_gpu:
            n = self.llama_layers
            layers = "all layers" if n < 0 else f"the first {n} layers"
            llama = f"GPU build, will offload {layers} (flash attention on)"
        elif self.llama_gpu_build:
            llama = f"CPU (GPU build, offload off), {self.llama_threads} threads"
        else:
            llama = f"CPU (this llama.cpp build has no GPU backend), {self.llama_threads} threads"
        return f"device={self.device}; ONNX models: {onnx}; llama.cpp models: {llama}"


def placement(device: str | None = None) -> Placement:
    """Describe where ONNX and llama.cpp models will run with the given (or current) device."""
    device = device or current_device()
    installed = onnxruntime_installed()
    try:
        providers = choose_onnx_providers(device) if installed else []
    except ModelError:
        providers = []
    try:
        offload = llama_offload(device)
    except ModelError:
        offload = LlamaOffload(0, False, False, llama_gpu_supported())
    return Placement(
        device, providers, offload.n_gpu_layers != 0, physical_cores(), offload.n_gpu_layers,
        offload.gpu_build, installed,
    )  # fmt: skip
