"""Where models run: onnxruntime execution providers and llama.cpp GPU offload.

The choice is an ordered preference intersected with what the installed runtimes offer, so the
same code uses CUDA on a Linux box with an NVIDIA card, CoreML on a Mac and the CPU elsewhere.
``device`` is ``"auto"`` (best available), ``"gpu"`` (accelerators only, error if none) or
``"cpu"``. The ``SAEM_DEVICE`` environment variable sets the process default; the CLI's
``--device`` and the library setting ``models.device`` pass through :func:`set_device`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from models.errors import ModelError

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

_device: str | None = None


def set_device(device: str | None) -> None:
    """Set the process-wide device preference (None = back to ``$SAEM_DEVICE`` / auto)."""
    global _device
    if device is not None and device not in DEVICES:
        raise ModelError(f"Unknown device {device!r}; use one of {', '.join(DEVICES)}.")
    _device = device


def current_device() -> str:
    device = _device or os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if device not in DEVICES:
        raise ModelError(f"{ENV_VAR}={device!r} is not one of {', '.join(DEVICES)}.")
    return device


def available_onnx_providers() -> list[str]:
    import onnxruntime

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
            raise ModelError(
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


def llama_gpu_layers(device: str | None = None) -> int:
    """``n_gpu_layers`` for llama.cpp: all layers (-1) on a GPU build unless the CPU is forced."""
    device = device or current_device()
    supported = llama_gpu_supported()
    if device == "gpu" and not supported:
        raise ModelError(
            "This llama.cpp build has no GPU support; reinstall llama-cpp-python with a GPU "
            "backend (e.g. CMAKE_ARGS=-DGGML_CUDA=on) or use --device cpu."
        )
    return -1 if supported and device != "cpu" else 0


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
    """What runs where, for ``saem models list``."""

    device: str
    onnx_providers: list[str]
    llama_gpu: bool
    llama_threads: int

    def onnx_label(self) -> str:
        first = self.onnx_providers[0] if self.onnx_providers else CPU
        return "GPU" if first != CPU else "CPU"

    def describe(self) -> str:
        onnx = ", ".join(p.removesuffix("ExecutionProvider") for p in self.onnx_providers)
        onnx = onnx or "no GPU provider available"
        llama = "GPU offload" if self.llama_gpu else f"CPU, {self.llama_threads} threads"
        return f"device={self.device}; ONNX models: {onnx}; llama.cpp models: {llama}"


def placement(device: str | None = None) -> Placement:
    """Describe where ONNX and llama.cpp models run with the given (or current) device."""
    device = device or current_device()
    try:
        providers = choose_onnx_providers(device)
    except ModelError:
        providers = []
    try:
        gpu_layers = llama_gpu_layers(device)
    except ModelError:
        gpu_layers = 0
    return Placement(device, providers, gpu_layers != 0, physical_cores())
