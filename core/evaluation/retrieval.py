"""Retrieval evaluation on BEIR-layout sets (``corpus.jsonl``, ``queries.jsonl``,
``qrels/test.tsv``) through the real product path.

The corpus is written as Markdown files into a temporary folder, imported with the real
importer into a temporary library, indexed by the real :class:`~core.indexing.indexer.Indexer`, and
searched with :class:`~core.search.searcher.Searcher`. Metrics follow the BEIR protocol: nDCG@10,
Recall@10/100 and MRR@10, averaged over queries that have relevance judgements.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import (
    BadInputError,
    BadPathError,
    CancelledError,
    EmptyInputError,
    MalformedInputError,
    UnknownNameError,
)
from models.protocols import TextEmbedder

if TYPE_CHECKING:
    from core.library import Library
    from core.search.searcher import Searcher

Progress = Callable[[int, int, str], None]
DEFAULT_METHODS = ("bm25", "dense", "hybrid")


@dataclass
class BeirSet:
    corpus: dict[str, tuple[str, str]]  # doc id → (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


@dataclass
class Metrics:
    ndcg10: float = 0.0
    recall10: float = 0.0
    recall100: float = 0.0
    mrr10: float = 0.0
    queries: int = 0
    ms_per_query: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "nDCG@10": round(self.ndcg10, 4),
            "Recall@10": round(self.recall10, 4),
            "Recall@100": round(self.recall100, 4),
            "MRR@10": round(self.mrr10, 4),
            "queries": self.queries,
            "ms/query": round(self.ms_per_query, 2),
        }


@dataclass
class EvalReport:
    dataset: str
    documents: int
    methods: dict[str, Metrics] = field(default_factory=dict)
    import_seconds: float = 0.0
    index_seconds: float = 0.0
    embedder: str = ""


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise MalformedInputError(
                    f"{path}, line {number}: not valid JSON ({exc.msg})."
                ) from exc
    return rows


def load_beir(folder: Path | str, split: str = "test") -> BeirSet:
    """Read a BEIR folder; missing or malformed files give a :class:`BadInputError`."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise BadPathError(f"{root}: no such dataset folder.")
    needed = [root / "corpus.jsonl", root / "queries.jsonl", root / "qrels" / f"{split}.tsv"]
    missing = [str(p.relative_to(root)) for p in needed if not p.is_file()]
    if missing:
        raise BadPathError(
            f"{root} is not a BEIR dataset: missing {', '.join(missing)} (expected corpus.jsonl,"
            f" queries.jsonl and qrels/{split}.tsv)."
        )
    corpus = {}
    for row in _read_jsonl(needed[0]):
        if "_id" not in row:
            raise MalformedInputError(f"{needed[0]}: a document has no _id.")
        corpus[str(row["_id"])] = (str(row.get("title") or ""), str(row.get("text") or ""))
    queries = {
        str(r["_id"]): str(r.get("text") or "") for r in _read_jsonl(needed[1]) if "_id" in r
    }
    qrels: dict[str, dict[str, int]] = {}
    with needed[2].open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").split("\t")
            if number == 1 and not parts[-1].strip().lstrip("-").isdigit():
                continue  # header
            if len(parts) < 3 or not parts[-1].strip().lstrip("-").isdigit():
                if line.strip():
                    raise MalformedInputError(
                        f"{needed[2]}, line {number}: expected "
                        "query-id, corpus-id and score separated by tabs."
                    )
                continue
            qid, did, score = parts[0], parts[1], int(parts[-1])
            if score > 0:
                qrels.setdefault(qid, {})[did] = score
    qrels = {q: d for q, d in qrels.items() if q in queries}
    if not corpus or not qrels:
        raise EmptyInputError(f"{root}: the dataset has no documents or no judged queries.")
    return BeirSet(corpus, queries, qrels)


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def mrr_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    for i, doc in enumerate(ranked[:k]):
        if doc in relevant:
            return 1.0 / (i + 1)
    return 0.0


def score_run(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> Metrics:
    m = Metrics()
    for qid, relevant in qrels.items():
        ranked = run.get(qid, [])
        m.ndcg10 += ndcg_at(ranked, relevant)
        m.recall10 += recall_at(ranked, relevant, 10)
        m.recall100 += recall_at(ranked, relevant, 100)
        m.mrr10 += mrr_at(ranked, relevant)
        m.queries += 1
    if m.queries:
        for name in ("ndcg10", "recall10", "recall100", "mrr10"):
            setattr(m, name, getattr(m, name) / m.queries)
    return m


def write_corpus(data: BeirSet, folder: Path) -> dict[str, str]:
    """One Markdown note per document (front-matter title, ``# title``, text).

    Returns file stem → doc id."""
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for n, (doc_id, (title, text)) in enumerate(data.corpus.items()):
        stem = f"d{n:07d}"
        if title.strip():
            # front matter carries the real title (else the file name would become it)
            head = f"---\ntitle: {json.dumps(title.strip(), ensure_ascii=False)}\n---\n"
            body = f"{head}# {title.strip()}\n\n{text.strip()}\n"
        else:
            body = f"{text.strip()}\n"
        (folder / f"{stem}.md").write_text(body, encoding="utf-8")
        names[stem] = doc_id
    return names


def build_library(
    data: BeirSet,
    workdir: Path,
    embedder: TextEmbedder | None,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> tuple[Library, dict[str, str], float, float]:
    """Import + index the corpus into a library under ``workdir``; (library, item→doc, s, s)."""
    from core.indexing.indexer import Indexer
    from core.library import Library
    from core.transfer.importer import import_markdown_folder
    from storage import notes as notes_repo

    docs = workdir / "corpus"
    names = write_corpus(data, docs)
    library = Library(workdir / "library")
    started = time.monotonic()
    report = import_markdown_folder(
        library,
        docs,
        progress=(lambda d, t, n="": progress(d, t, "import")) if progress else _quiet,
        should_cancel=should_cancel or (lambda: False),
    )
    if report.cancelled:
        library.close()
        raise CancelledError("Evaluation cancelled while importing.")
    imported = time.monotonic() - started
    item_to_doc = {}
    for item_id, _title, row in notes_repo.all_notes(library.db):
        stem = Path(row.source_path or "").stem
        if stem in names:
            item_to_doc[item_id] = names[stem]
    started = time.monotonic()
    indexer = Indexer(library, embedder, auto_models=False, batch_size=32)

    def index_progress(done: int, total: int, _note: str = "") -> None:
        if progress:
            progress(done, total, "index")

    # one embedder per evaluation: no background upgrade to e5 when none is given
    result = indexer.run(
        progress=index_progress if progress else None, should_cancel=should_cancel, upgrade=False
    )
    if result.cancelled:
        library.close()
        raise CancelledError("Evaluation cancelled while indexing.")
    return library, item_to_doc, imported, time.monotonic() - started


def _quiet(done: int, total: int, note: str = "") -> None:
    return None


def run_queries(
    searcher: Searcher,
    data: BeirSet,
    item_to_doc: dict[str, str],
    method: str,
    query_ids: list[str],
    progress: Progress | None = None,
) -> tuple[dict[str, list[str]], float]:
    run: dict[str, list[str]] = {}
    started = time.monotonic()
    for n, qid in enumerate(query_ids, start=1):
        try:
            ranked = searcher.rank_items(data.queries[qid], method=method, k=100)
        except BadInputError:
            ranked = []
        run[qid] = [item_to_doc[i] for i, _ in ranked if i in item_to_doc]
        if progress and n % 25 == 0:
            progress(n, len(query_ids), method)
    per_query = (time.monotonic() - started) * 1000 / max(1, len(query_ids))
    return run, per_query


def evaluate_dataset(
    folder: Path | str,
    *,
    methods: tuple[str, ...] | list[str] = DEFAULT_METHODS,
    limit_queries: int | None = None,
    embedder: TextEmbedder | None = None,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    workdir: Path | None = None,
) -> EvalReport:
    """Import, index and evaluate a BEIR folder in a temporary library (deleted afterwards)."""
    from core.search.searcher import METHODS, Searcher

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise UnknownNameError(f"Unknown method(s) {', '.join(unknown)}; use {', '.join(METHODS)}.")
    data = load_beir(folder)
    query_ids = sorted(data.qrels)
    if limit_queries:
        step = max(1, len(query_ids) // limit_queries)  # an even sample, not the first N
        query_ids = query_ids[::step][:limit_queries]
    qrels = {q: data.qrels[q] for q in query_ids}
    with tempfile.TemporaryDirectory(prefix="saem-eval-", dir=workdir) as tmp:
        library, item_to_doc, imported, indexed = build_library(
            data, Path(tmp), embedder, progress, should_cancel
        )
        try:
            searcher = Searcher(library, embedder)
            report = EvalReport(
                str(folder),
                len(data.corpus),
                import_seconds=imported,
                index_seconds=indexed,
                embedder=embedder.model_id if embedder else "default",
            )
            for method in methods:
                if should_cancel and should_cancel():
                    raise CancelledError("Evaluation cancelled.")
                run, ms = run_queries(searcher, data, item_to_doc, method, query_ids, progress)
                metrics = score_run(run, qrels)
                metrics.ms_per_query = ms
                report.methods[method] = metrics
        finally:
            library.close()
    return report
