"""B4 editing trace (automerge-paper, 259,778 keystrokes) through Saem's note-edit path vs Yjs.

Batching (the same rule on both sides): a batch ends when the cursor jumps or after
``--batch`` keystrokes (default 8 ≈ one debounce of a fast typist); the editor then hands
Saem the whole new note text, which Saem diffs into minimal CRDT edits applied in ONE
pycrdt transaction, producing the update bytes it logs (``NoteDoc.set_text``). Yjs (Node,
``tests/sync/js/trace_yjs.mjs``) applies the same batches as one transaction each, with an
update listener (the bytes a provider would persist/send). Building the new text string
(editor work) is not timed. A second figure runs the full persisted path
(``NotesService.edit``: diff + CRDT + SQLite rows + log + index job, one commit per batch)
on the first ``--persisted`` batches.

    .venv/bin/python benchmarks/bench_crdt_trace.py [--batch 8] [--persisted 2000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TRACE = REPO.parent / "shared" / "eval" / "crdt" / "automerge-paper.json.gz"
JS = REPO / "tests" / "sync" / "js"


def batches(patches: list[list], max_batch: int) -> list[list]:
    out: list[list] = []
    current: list = []
    last = None
    for p in patches:
        if current and (abs(p[0] - last) > 1 or len(current) >= max_batch):
            out.append(current)
            current = []
        current.append(p)
        last = p[0] + len(p[2])
    if current:
        out.append(current)
    return out


def apply(text: str, batch: list) -> str:
    for pos, delete, insert in batch:
        text = text[:pos] + insert + text[pos + delete :]
    return text


def run_saem(groups: list[list], end: str) -> dict[str, float]:
    from sync.docs import NoteDoc

    doc = NoteDoc()
    text = ""
    timed = 0.0
    logged = 0
    for batch in groups:
        new = apply(text, batch)
        t0 = time.perf_counter()
        logged += len(doc.set_text(new))
        timed += time.perf_counter() - t0
        text = new
    assert doc.text == end, "Saem replay diverged from the trace's final text"
    return {"ms": timed * 1000, "encoded": len(doc.encode_state()), "update_bytes": logged}


def run_persisted(groups: list[list], count: int) -> dict[str, float]:
    from core.library import Library

    with tempfile.TemporaryDirectory() as tmp, Library(Path(tmp) / "lib") as lib:
        note = lib.notes.create("")
        text = ""
        t0 = time.perf_counter()
        for batch in groups[:count]:
            text = apply(text, batch)
            lib.notes.edit(note, text, title="trace")
        elapsed = time.perf_counter() - t0
        assert lib.notes.get(note).body == text
    return {"ms_per_batch": elapsed * 1000 / count, "batches": count}


def run_yjs(max_batch: int) -> dict[str, float]:
    out = subprocess.run(
        ["node", str(JS / "trace_yjs.mjs"), str(TRACE), str(max_batch)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result = json.loads(out.stdout)
    assert result["ok"], "Yjs replay diverged"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--persisted", type=int, default=2000)
    args = parser.parse_args()
    with gzip.open(TRACE) as handle:
        trace = json.loads(handle.read())
    patches = [t["patches"][0] for t in trace["txns"]]
    groups = batches(patches, args.batch)
    print(
        f"B4 trace: {len(patches):,} keystrokes → {len(groups):,} batches "
        f"(cursor jump or {args.batch} keys)"
    )
    yjs = run_yjs(args.batch)
    saem = run_saem(groups, trace["endContent"])
    ratio = saem["ms"] / yjs["ms"]
    print(f"{'':28}{'time':>10}{'encoded':>12}{'update bytes':>15}")
    print(
        f"{'Yjs 13 (Node)':28}{yjs['ms'] / 1000:>9.2f}s{yjs['encoded']:>12,}"
        f"{yjs['updateBytes']:>15,}"
    )
    print(
        f"{'Saem NoteDoc.set_text':28}{saem['ms'] / 1000:>9.2f}s{saem['encoded']:>12,}"
        f"{saem['update_bytes']:>15,}"
    )
    print(
        f"time ratio Saem/Yjs: {ratio:.2f}x (goal <= 2x); "
        f"encoded size ratio: {saem['encoded'] / yjs['encoded']:.2f}x"
    )
    if args.persisted:
        persisted = run_persisted(groups, min(args.persisted, len(groups)))
        print(
            f"persisted path (NotesService.edit, one SQLite commit per batch): "
            f"{persisted['ms_per_batch']:.2f} ms/batch over {persisted['batches']:,} batches"
        )


if __name__ == "__main__":
    main()
