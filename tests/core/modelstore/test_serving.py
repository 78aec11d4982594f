"""The models list names the text embedder that serves meaning search (the library's vectors)
and, mid-upgrade, how far the upgrade is — the count only when asked (the status bar's poll
does not scan the chunks again). Real library, real USE-m3 vectors; the e5 rows are written
straight into the vector table (what an upgrade batch writes), so no e5 run is needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.library import Library
from core.modelstore.serving import listed_id
from models.e5_onnx import MODEL_ID as E5_MODEL_ID
from storage import chunks as chunk_store
from storage import vectors as vector_store
from storage.vectors import VectorRow


def test_progress_is_counted_only_when_asked(library_path: Path) -> None:
    lib = Library(library_path)
    try:
        for body in ["# Coffee\n\nespresso beans", "# 김치\n\n김치찌개", "# Run\n\nlong runs"]:
            lib.notes.create(body)
        lib.indexer.run(upgrade=False)
        serving = vector_store.serving_model(lib.db)
        assert listed_id(serving, []) == "builtin:usem3"
        first = chunk_store.chunks_of(lib.db, chunk_store.items_with_chunks(lib.db)[0])[0]
        unit = np.zeros(384, dtype="<f4")
        unit[0] = 1.0
        with lib.db.transaction():  # an upgrade to e5 with one chunk done
            vector_store.set_target_model(lib.db, E5_MODEL_ID)
            row = VectorRow("chunk", str(first.id), first.item_id, unit.tobytes())
            vector_store.put_vectors(lib.db, E5_MODEL_ID, 384, [row])
        total = chunk_store.count_chunks(lib.db)
        rows = {m.id: m for m in lib.models.list("text-embedding")}
        assert rows["builtin:usem3"].active and not rows["builtin:e5"].active
        assert rows["builtin:usem3"].note == "serves meaning search (upgrade under way)"
        assert rows["builtin:e5"].note == (
            f"upgrading meaning search to it: {100 // total}% (1 / {total} chunks)"
        )
        quick = {m.id: m for m in lib.models.list("text-embedding", progress=False)}
        assert quick["builtin:usem3"].active and quick["builtin:e5"].note == ""
        assert lib.models.active("text-embedding").id == "builtin:usem3"  # type: ignore[union-attr]
    finally:
        lib.close()
