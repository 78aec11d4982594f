"""Question sets for the chat benchmark and the slow tests (read from ../shared/eval, never
copied): KorQuAD questions with their reference answers, and an English cloze set built from
SciFact claims whose number also appears in the supporting abstract."""

from __future__ import annotations

import csv
import json
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

# ../shared/eval next to the checkout; $SAEM_EVAL_DIR elsewhere (a git worktree, CI)
EVAL = Path(
    os.environ.get("SAEM_EVAL_DIR") or Path(__file__).resolve().parents[2] / "shared" / "eval"
)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,/]\d+)*%?)(?![\w])")


@dataclass(frozen=True)
class QA:
    qid: str
    question: str
    answers: tuple[str, ...]
    doc_id: str


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    text: str

    def markdown(self) -> str:
        return f"# {self.title or self.id}\n\n{self.text}\n"


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _qrels(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))[1:]
    out: dict[str, str] = {}
    for qid, doc, score in rows:
        if int(score) > 0:
            out.setdefault(qid, doc)
    return out


def korquad(n: int, seed: int = 7) -> tuple[list[QA], dict[str, Doc]]:
    """``n`` questions, one per paragraph, with every paragraph of the corpus."""
    base = EVAL / "korquad"
    docs = {d["_id"]: Doc(d["_id"], d.get("title", ""), d["text"])
            for d in _jsonl(base / "corpus.jsonl")}  # fmt: skip
    rel = _qrels(base / "qrels" / "test.tsv")
    queries = _jsonl(base / "queries.jsonl")
    random.Random(seed).shuffle(queries)
    out: list[QA] = []
    used: set[str] = set()
    for q in queries:
        doc = rel.get(q["_id"])
        answers = tuple(q.get("metadata", {}).get("answers") or ())
        if doc is None or doc in used or not answers or doc not in docs:
            continue
        used.add(doc)
        out.append(QA(q["_id"], q["text"], answers, doc))
        if len(out) >= n:
            break
    return out, docs


def scifact_cloze(n: int, seed: int = 7) -> tuple[list[QA], dict[str, Doc]]:
    """Claims with a number that the supporting abstract also states: the number is blanked
    and asked for ("… ___ of patients …" → "What number fills the blank…")."""
    base = EVAL / "scifact"
    docs = {d["_id"]: Doc(d["_id"], d.get("title", ""), d["text"])
            for d in _jsonl(base / "corpus.jsonl")}  # fmt: skip
    rel = {**_qrels(base / "qrels" / "train.tsv"), **_qrels(base / "qrels" / "test.tsv")}
    claims = _jsonl(base / "queries.jsonl")
    random.Random(seed).shuffle(claims)
    out: list[QA] = []
    used: set[str] = set()
    for c in claims:
        doc = docs.get(rel.get(c["_id"], ""))
        if doc is None or doc.id in used:
            continue
        numbers = [m for m in _NUMBER.findall(c["text"]) if m in doc.text and len(m) >= 3]
        if len(numbers) != 1:
            continue
        blank = c["text"].replace(numbers[0], "___", 1).rstrip(".")
        question = f"According to my notes, what number fills the blank: {blank}?"
        used.add(doc.id)
        out.append(QA(c["_id"], question, (numbers[0],), doc.id))
        if len(out) >= n:
            break
    return out, docs


def library_docs(
    qas: list[QA], docs: dict[str, Doc], distractors: int, *, avoid: list[QA] = (), seed: int = 7
) -> list[Doc]:
    """The answering documents plus ``distractors`` others (seeded), never a document of the
    ``avoid`` questions nor of their article (KorQuAD ids are article-paragraph)."""
    wanted = {q.doc_id for q in qas}
    banned = {q.doc_id.rsplit("-", 1)[0] for q in avoid} | {q.doc_id for q in avoid}
    others = sorted(d for d in set(docs) - wanted
                    if d not in banned and d.rsplit("-", 1)[0] not in banned)  # fmt: skip
    random.Random(seed).shuffle(others)
    return [docs[d] for d in sorted(wanted)] + [docs[d] for d in others[:distractors]]


def contains(text: str, answers: tuple[str, ...]) -> bool:
    flat = " ".join(text.split()).lower()
    return any(" ".join(a.split()).lower() in flat for a in answers)
