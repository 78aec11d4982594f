"""Which text-embedding model serves meaning search, as ``saem models`` and the GUI show it.

The model registry's "in use" text embedder is what a library starts on (USE-m3, fast); a
progressive upgrade (``core.indexing.progressive``) then moves the library's vectors to e5,
and from then on e5 serves search while the registry still names USE-m3. What the user sees
is the model that the library's vectors are made with (its *serving* model) and, while an
upgrade runs, the model it is being upgraded to and how far that is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.modelstore.builtins import BUILTINS
from storage import chunks as chunk_store
from storage import vectors as vector_store
from storage.db import Database

TASK = "text-embedding"


@dataclass(frozen=True)
class MeaningModels:
    """Listed model ids (``builtin:e5``, a registered id) of the serving and target models;
    ``done`` of ``total`` chunks already have the target's vector."""

    serving: str | None
    target: str | None
    done: int = 0
    total: int = 0

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    def note(self, model_id: str) -> str:
        """What the models list says next to ``model_id`` (empty: nothing to say)."""
        if self.target and model_id == self.target:
            return (
                f"upgrading meaning search to it: {self.percent}% "
                f"({self.done:,} / {self.total:,} chunks)"
            )
        if model_id == self.serving:
            return "serves meaning search" + (" (upgrade under way)" if self.target else "")
        return ""


def listed_id(vector_model: str | None, registered: Iterable[str]) -> str | None:
    """The listed model whose vectors carry ``vector_model`` (a registered model's vectors
    carry its id; a packaged one's start with its runtime), or None if none is listed."""
    if not vector_model:
        return None
    if vector_model in set(registered):
        return vector_model
    for b in BUILTINS:
        if b.task == TASK and vector_model.startswith(b.runtime):
            return b.id
    return None


def meaning_models(
    db: Database, registered: Iterable[str], *, progress: bool = True
) -> MeaningModels:
    """The library's serving/target text embedders as listed ids; counts the upgraded chunks
    only while an upgrade runs and ``progress`` is asked for (it scans the chunks)."""
    ids = list(registered)
    serving = vector_store.serving_model(db)
    if serving is None or not vector_store.count_vectors(db, serving):
        return MeaningModels(None, None)  # nothing embedded yet: the registry's choice holds
    target = vector_store.target_model(db)
    if not target or not progress:
        return MeaningModels(listed_id(serving, ids), None)
    total = chunk_store.count_chunks(db)
    done = max(0, total - vector_store.chunks_missing(db, target))
    return MeaningModels(listed_id(serving, ids), listed_id(target, ids), done, total)
