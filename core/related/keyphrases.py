"""Intent keywords: the phrases of an item that best express its topic (EmbedRank-style).

1. Candidates: runs of content words. Korean is agglutinative, so each eojeol (space-separated
   word) has its particle or ending stripped (``임종석은`` → ``임종석``, ``시위를`` → ``시위``) and
   predicates (``발부받았다``) are dropped; English words are lower-cased and stop words dropped.
   Candidates are 1–3 consecutive stems inside one clause. A cheap statistical score (frequency,
   first position, length) keeps the best ``pool`` of them.
2. Ranking: each candidate is embedded and scored by cosine similarity to the whole item's vector;
   MMR (maximal marginal relevance) picks phrases that are on topic but not redundant.

Without an embedder the statistical score alone ranks the candidates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.protocols import TextEmbedder


def _words(text: str) -> list[str]:
    return text.split()


_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_TOKEN = re.compile(r"[0-9A-Za-z\uac00-\ud7a3\u3131-\u318e\u00c0-\u024f][\w\-'·]*", re.UNICODE)
_CLAUSE = re.compile(r"[.!?。,;:()\[\]{}\"“”‘’「」『』<>《》\n|/]+")
_MARKUP = re.compile(r"!\[\[[^\]]*\]\]|\[\[([^\]|#]*)[^\]]*\]\]|\]\([^)]*\)|`[^`]*`|https?://\S+")

# Particles and common endings, longest first (stripped once from the end of an eojeol).
_KO_SUFFIXES = sorted(
    _words(
        """
        으로부터 에서부터 에게서 으로서 으로써 이라고 이라는 이라며 이었다 에서는 에서도
        에서의 에게는 까지는 부터는 으로는 으로도 이지만 이므로 에서 에게 께서 한테 까지
        부터 마저 조차 처럼 보다 이나 이며 이고 이다 였다 으로 라고 라는 로서 로써 과의
        와의 만의 들은 들이 들을 들의 들에 들과 들도 은 는 이 가 을 를 의 에 와 과 도 만 로
        나 며 고 께 들
        """
    ),
    key=len,
    reverse=True,
)
# Eojeol that end like a predicate (verb/adjective forms) are not topic phrases.
_KO_PREDICATE = re.compile(
    r"(다|했|하는|하고|하여|해서|하며|한다|된다|되는|되어|되었|됐|었|았|겠|는데|지만|면서|으며|"
    r"하게|하기|했던|되던|였던|이던|인|적인|스러운|어야|아야|나서|할|될|킬|졌|려고|도록)$"
)
_KO_STOP = set(
    _words(
        """
        것 수 등 및 그 이 저 때 중 더 또 위해 통해 대한 대해 같은 있는 없는 있다 없다 이후
        당시 그리고 그러나 하지만 또한 때문 경우 이러한 이런 그런 모든 각 여러 다른 한 두
        세 년 월 일 명 개 후 전 가장 매우 다시 바로 이미 아직 모두 함께 직접 대부분 사이
        이상 이하 정도 관련 자신 우리 그녀 그들 그의 그는 그가 그를 그녀의 그녀는 이는 이를
        이에 이와 오전 오후
        """
    )
)
_EN_STOP = set(
    _words(
        """
        a an the and or but if then else of to in on at by for with from as is are was were
        be been being this that these those it its it's he she they them his her their we
        you your i me my our not no yes do does did done have has had having can could
        would should will shall may might must about into over under after before between
        through during without within also just only very more most some any each such than
        too so there here what which who whom whose when where why how all both few other
        same own again further once up down out off new one two three
        """
    )
)


@dataclass(frozen=True)
class Keyphrase:
    text: str
    score: float


_SUFFIX_SETS = [
    (n, frozenset(x for x in _KO_SUFFIXES if len(x) == n))
    for n in sorted({len(x) for x in _KO_SUFFIXES}, reverse=True)
]


def _strip_korean(word: str) -> tuple[str, bool]:
    """(stem, had_suffix) of one eojeol; keeps at least two syllables."""
    for n, suffixes in _SUFFIX_SETS:
        if len(word) - n >= 2 and word[-n:] in suffixes:
            return word[:-n], True
    return word, False


def _normalise(token: str) -> str | None:
    """The content stem of one token, or None for function words and predicates."""
    token = token.strip("-'·")
    if not token or token[0].isdigit():
        return None  # dates, counts and amounts ("1989년", "12월") are rarely the topic
    if _HANGUL.search(token):
        if _KO_PREDICATE.search(token) and not token.endswith(("이다", "였다")):
            return None
        stem, _ = _strip_korean(token)
        if _KO_PREDICATE.search(stem) or stem in _KO_STOP or len(stem) < 2:
            return None
        return stem
    low = token.lower()
    if low in _EN_STOP or len(low) < 2 or low.isdigit():
        return None
    return low


def candidates(text: str, *, max_len: int = 3) -> dict[str, tuple[int, int]]:
    """Candidate phrase → (count, first position in tokens)."""
    text = _MARKUP.sub(lambda m: f" {m.group(1) or ''} ", text)
    found: dict[str, tuple[int, int]] = {}
    position = 0
    for clause in _CLAUSE.split(text):
        run: list[str] = []
        for raw in _TOKEN.findall(clause):
            position += 1
            stem = _normalise(raw)
            if stem is None:
                run = []
                continue
            run.append(stem)
            run = run[-max_len:]
            for n in range(1, len(run) + 1):
                phrase = " ".join(run[-n:])
                count, first = found.get(phrase, (0, position))
                found[phrase] = (count + 1, first)
            if _HANGUL.search(raw) and _strip_korean(raw)[1]:
                run = []  # a particle ends the noun phrase (시위를 | 주도한)
    return found


def _statistical(found: dict[str, tuple[int, int]]) -> dict[str, float]:
    if not found:
        return {}
    total = max(first for _, first in found.values()) or 1
    scores: dict[str, float] = {}
    for phrase, (count, first) in found.items():
        words = phrase.count(" ") + 1
        if words > 1 and count < 2:
            continue  # a multi-word phrase seen once is usually an accident of word order
        length = min(len(phrase.replace(" ", "")), 8) / 8
        scores[phrase] = (
            (1 + math.log1p(count))
            * (1.2 - 0.5 * first / total)
            * (0.5 + length)
            * (1 + 0.3 * (words - 1))
        )
    return scores


def extract(
    text: str,
    *,
    embedder: TextEmbedder | None = None,
    doc_vector: np.ndarray | None = None,
    top: int = 3,
    pool: int = 24,
    diversity: float = 0.5,
) -> list[Keyphrase]:
    """The ``top`` phrases of ``text`` that best express its topic."""
    stats = _statistical(candidates(text))
    if not stats:
        return []
    ranked = sorted(stats, key=lambda p: (-stats[p], p))[:pool]
    if embedder is None:
        best = max(stats[p] for p in ranked)
        picked = _dedupe(ranked, top)
        return [Keyphrase(p, float(stats[p] / best)) for p in picked]
    vecs = np.asarray(embedder.embed_queries(ranked), dtype=np.float32)
    if doc_vector is None:
        doc_vector = np.asarray(embedder.embed_passages([text[:4000]]), np.float32)[0]
    doc = doc_vector / (np.linalg.norm(doc_vector) or 1.0)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    unit = vecs / np.where(norms == 0, 1.0, norms)
    relevance = unit @ doc
    chosen = _mmr(unit, relevance, top, diversity)
    return [Keyphrase(ranked[i], float(relevance[i])) for i in chosen]


def _dedupe(phrases: Sequence[str], top: int) -> list[str]:
    out: list[str] = []
    for p in phrases:
        if any(p in q or q in p for q in out):
            continue
        out.append(p)
        if len(out) == top:
            break
    return out


def _mmr(vecs: np.ndarray, relevance: np.ndarray, top: int, diversity: float) -> list[int]:
    chosen: list[int] = []
    remaining = list(range(len(relevance)))
    while remaining and len(chosen) < top:
        if chosen:
            redundancy = (vecs[remaining] @ vecs[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(remaining))
        mmr = (1 - diversity) * relevance[remaining] - diversity * redundancy
        chosen.append(remaining.pop(int(np.argmax(mmr))))
    return chosen
