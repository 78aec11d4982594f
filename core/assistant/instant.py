"""The instant answer: the sentence (table row, OCR row) of your own notes and photos that most
likely answers a question, in well under a second, before any LLM runs.

1. The hybrid search gives the best few items; their matching chunks (notes) or their OCR rows
   in reading order (photos, :mod:`core.receipts`) are cut into units: sentences, table rows,
   list items, OCR rows.
2. Each unit is scored by the question's key words it holds, each word weighted by how rare it
   is among the candidate units (a word every unit has tells nothing), plus a bonus when it holds
   something of the kind asked for (an amount for 얼마/how much, a date for 언제/when, a name
   for 누구/who, a place for 어디/where) and a small prior from the item's search rank.
3. In the best unit, the span of the asked kind that is not part of the question is highlighted.

Nothing is generated: the text shown is a verbatim piece of the user's library, with its item,
character span and a ``saem://`` link to it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.assistant.receipts import extract_fields, layout_rows
from core.assistant.retrieval import Retriever, clean_query, query_terms
from storage.ids import PhotoId

if TYPE_CHECKING:
    from core.library import Library

SEARCH_HITS = 6
MIN_SCORE = 0.34  # share of the question's (weighted) key words for an answer to be shown
MAX_UNIT_CHARS = 400

QTYPES = ("amount", "count", "date", "person", "store", "place", "other")
_QTYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("amount", re.compile(
        r"얼마|금액|가격|비용|합계|총액|요금|참가비|회비|how much|price|cost|total|amount|fee",
        re.IGNORECASE)),
    ("date", re.compile(
        r"언제|날짜|날은|날이|일자|연도|년도|몇\s*년|몇\s*월|며칠|시기|when|\bdate\b|what (?:year|"
        r"day|month|time)|which (?:year|date|day)", re.IGNORECASE)),
    ("count", re.compile(r"몇|how many|number of|how old", re.IGNORECASE)),
    ("store", re.compile(r"가게|상호|상점|매장|식당|store|shop|merchant|restaurant|company",
                         re.IGNORECASE)),
    ("person", re.compile(r"누구|누가|누군|인물|사람|이름|who|whom|whose", re.IGNORECASE)),
    ("place", re.compile(r"어디|어느\s*(?:곳|나라|도시|지역)|장소|곳은|where|which (?:city|"
                         r"country|place)", re.IGNORECASE)),
)  # fmt: skip
_DATE_SPAN = re.compile(
    r"(?:(?:기원전\s*)?\d{1,4}\s*년\s*)?(?:\d{1,2}\s*월\s*)?\d{1,2}\s*일"
    r"|(?:기원전\s*)?\d{1,4}\s*년(?:\s*\d{1,2}\s*월)?|\d{1,2}\s*월|\d{1,2}\s*세기"
    r"|\b(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}\b|\b\d{1,2}[-./]\d{1,2}[-./](?:19|20)?\d{2}\b"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?\s+\d{1,2}(?:,?\s+\d{4})?"
    r"|\b\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December)(?:\s+\d{4})?|\b(?:1[5-9]|20)\d{2}\b",
)
_COUNT_SPAN = re.compile(
    r"\d[\d,.]*\s*(?:명|개|번|회|살|세|권|곳|종|마리|대|채|장|척|편|곡|점|가지|시간|분|초|km|m|%)"
    r"|\b\d[\d,.]*\b|[한두세네다섯여섯일곱여덟아홉열]+\s*(?:명|개|번|살|가지)",
)
_AMOUNT_SPAN = re.compile(
    r"(?:(?:RM|S\$|US\$|\$|₩|€|£)\s?)?\d[\d,.]*\s*(?:원|달러|엔|위안|유로|만\s*원|억\s*원|won|"
    r"dollars?|USD|KRW)?|(?:(?:RM|S\$|US\$|\$|₩|€|£)\s?)\d[\d,.]*"
)
_PLACE_SPAN = re.compile(
    r"[가-힣A-Za-z0-9·]+(?:시|도|군|구|읍|면|동|리|역|국|섬|산|강|호|대학교|대학|학교|병원|공항|"
    r"궁|사|성당|교회|공원|광장|회관|도서관|강당|센터|회의실|건물|층)(?=[\s,.은는이가을를에의로]|$)"
    r"|\b(?:in|at|from)\s+((?:the\s+)?[A-Z][\w'.-]*(?:[ ,]+[A-Z0-9][\w'.-]*)*)"
)
# Names are highlighted only where the writing marks them: Capitalized Words in English, and a
# Korean name before a title (김일영 교수, 현정은 회장) — a bare 2–4 syllable word is as
# likely a noun as a name, and a wrong highlight costs more trust than none.
_KO_NAME = re.compile(
    r"([가-힣]{2,4})\s?(?=(?:씨|교수|의원|회장|대표|대통령|장관|감독|선수|박사|위원장|총리|사장)\b)"
)
_EN_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2}\b")
# "Label: value" rows (notices, forms, receipts): labels that announce each kind of answer.
_LABELS = {
    "amount": re.compile(r"fee|price|total|cost|amount|참가비|회비|금액|가격|요금|합계", re.I),
    "date": re.compile(r"date|when|일시|날짜|일자|기간", re.I),
    "place": re.compile(r"place|venue|location|where|address|장소|위치|주소|곳", re.I),
    "person": re.compile(r"name|host|speaker|contact|이름|담당|주최|강사|연사", re.I),
    "store": re.compile(r"store|shop|merchant|상호|가게|매장", re.I),
}
_LABEL_ROW = re.compile(r"^\s*([^:：\n]{1,20})[:：]\s*(\S.*)$")
_COUNTER = re.compile(
    r"몇\s*([가-힣A-Za-z]{1,3}?)(?:인가|인지|입니까|을|를|이|가|은|는|에|의|도|째|\?|\s|$)"
)
# A sentence ends at ., !, ?, 。 followed by white space or the end; a stop inside a word
# ("Minnesota.Patients", "0.8 g", "$153.56") does not end it. (The first version matched only
# sentences free of such stops and silently skipped the text before them: a SciFact abstract
# lost two of its five sentences, with the asked number.)
_SENTENCE = re.compile(r"(?:[^.!?。\n]|[.!?。](?![.!?。]*(?:\s|$)))*(?:[.!?。]+(?=\s|$)|\n|$)")
_NOT_NAMES = frozenset(
    [
        "그는",
        "그녀",
        "그들",
        "이후",
        "이때",
        "당시",
        "이것",
        "그것",
        "또한",
        "하지만",
        "그러나",
        "그리고",
        "때문",
        "이를",
        "다른",
        "The",
        "This",
        "That",
        "These",
        "Those",
        "He",
        "She",
        "It",
        "They",
        "In",
        "On",
        "At",
        "When",
        "After",
        "Before",
    ]
)


@dataclass(frozen=True)
class InstantAnswer:
    """A verbatim piece of the library that most likely answers the question."""

    text: str  # the sentence / table row / OCR row, as stored (OCR: as laid out)
    span: tuple[int, int] | None  # the answer inside ``text`` when one was found
    item_id: str
    kind: str  # note | photo
    title: str
    start: int  # character span of ``text`` inside the item (notes); 0, 0 for photo rows
    end: int
    qtype: str
    score: float
    ms: float  # time taken, search included
    # share of the question's (weighted) key words in the unit or its item's title: high when
    # the sentence is about what was asked (the store named in the question), not just of its kind
    coverage: float = 0.0

    @property
    def answer(self) -> str:
        return self.text[self.span[0] : self.span[1]] if self.span else ""

    @property
    def link(self) -> str:
        frag = f"#{self.start}-{self.end}" if self.end > self.start else ""
        return f"saem://{self.kind}/{self.item_id}{frag}"

    def highlighted(self, left: str = "**", right: str = "**") -> str:
        if not self.span:
            return self.text
        a, b = self.span
        return f"{self.text[:a]}{left}{self.text[a:b]}{right}{self.text[b:]}"

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text, "span": list(self.span) if self.span else None,
            "answer": self.answer, "item_id": self.item_id, "kind": self.kind,
            "title": self.title, "start": self.start, "end": self.end, "link": self.link,
            "qtype": self.qtype, "score": round(self.score, 3), "ms": round(self.ms, 1),
            "coverage": round(self.coverage, 3),
        }  # fmt: skip


@dataclass(frozen=True)
class Unit:
    text: str
    item_id: str
    kind: str
    title: str
    start: int
    end: int
    rank: int
    label: str = ""  # a field name ("total") when the unit is an extracted receipt field


def question_type(question: str) -> str:
    for name, pattern in _QTYPE_RULES:
        if pattern.search(question):
            return name
    return "other"


def split_units(text: str, offset: int = 0, split_at: int = 120) -> list[tuple[str, int, int]]:
    """Sentences, table rows and list items of a chunk, with their character spans (a line
    of at most ``split_at`` characters stays whole: a heading, a list item, an OCR row)."""
    out: list[tuple[str, int, int]] = []
    for line_match in re.finditer(r"[^\n]+", text):
        line = line_match.group(0)
        base = line_match.start()
        if line.lstrip().startswith("|") or len(line) <= split_at:
            pieces = [(line, 0)]
        else:
            pieces = [(m.group(0), m.start()) for m in _SENTENCE.finditer(line) if m.group(0)]
        for piece, at in pieces:
            stripped = piece.strip()
            if len(stripped) < 2 or set(stripped) <= set("|-: "):
                continue
            lead = len(piece) - len(piece.lstrip())
            s = offset + base + at + lead
            out.append((stripped[:MAX_UNIT_CHARS], s, s + len(stripped[:MAX_UNIT_CHARS])))
    return out


def _candidates(qtype: str, text: str) -> list[tuple[int, int]]:
    if qtype == "amount":
        spans = [
            m.span() for m in _AMOUNT_SPAN.finditer(text) if any(c.isdigit() for c in m.group())
        ]
        dates = [m.span() for m in _DATE_SPAN.finditer(text) if not m.group().isdigit()]
        return [s for s in spans if not any(a <= s[0] < b for a, b in dates)]
    if qtype == "date":
        return [m.span() for m in _DATE_SPAN.finditer(text)]
    if qtype == "count":
        return [m.span() for m in _COUNT_SPAN.finditer(text)]
    if qtype == "place":
        return [m.span(1) if m.group(1) else m.span() for m in _PLACE_SPAN.finditer(text)]
    if qtype == "store":
        return [(0, len(text))] if text.strip() else []
    if qtype == "person":
        spans = [m.span(1) for m in _KO_NAME.finditer(text) if m.group(1) not in _NOT_NAMES]
        return spans + [m.span() for m in _EN_NAME.finditer(text) if m.group() not in _NOT_NAMES]
    return []


def labelled_value(text: str, qtype: str) -> tuple[int, int] | None:
    """In a "Label: value" row whose label announces the asked kind, the value's span."""
    m = _LABEL_ROW.match(text)
    pattern = _LABELS.get(qtype)
    if m is None or pattern is None or not pattern.search(m.group(1)):
        return None
    return m.span(2)


def find_span(text: str, qtype: str, question: str) -> tuple[int, int] | None:
    """The span of the asked kind that the question does not already contain (the one after
    the question's words when several are left)."""
    labelled = labelled_value(text, qtype)
    if labelled is not None:
        inner = [s for s in _candidates(qtype, text) if labelled[0] <= s[0] < labelled[1]]
        if qtype in ("place", "person", "store") or not inner:
            return labelled
        return inner[-1] if qtype == "amount" else inner[0]
    spans = _candidates(qtype, text)
    unit = _COUNTER.search(question)
    if unit is not None and qtype in ("count", "date"):
        # "몇 명" / "몇 뷰" / "몇 년": only a number with that counter answers it
        counted = re.compile(r"\d[\d,.]*\s*(?:만|천|백|억)?\s*" + re.escape(unit.group(1)))
        spans = [m.span() for m in counted.finditer(text)]
    q = question.lower()
    fresh = [(a, b) for a, b in spans if text[a:b].strip().lower() not in q]
    if not fresh:
        return None
    if qtype == "amount" and len(fresh) > 1:
        # a receipt row "Total … 79.50": the last amount is the value
        return fresh[-1]
    terms = [t for t in query_terms(question) if len(t) >= 2]
    low = text.lower()
    positions = [m.start() for t in terms for m in re.finditer(re.escape(t), low)]
    if not positions:
        return fresh[0]

    def rank(span: tuple[int, int]) -> tuple[int, float]:
        # most question words just around it, then the nearest one (a value right after its
        # word beats one just before it)
        window = low[max(0, span[0] - 24) : span[1] + 12]
        near = sum(1 for t in terms if t in window)
        dist = min(span[0] - p if span[0] >= p else (p - span[1]) * 1.5 for p in positions)
        return -near, dist

    return min(fresh, key=rank)


def score_units(question: str, units: Sequence[Unit], qtype: str) -> list[tuple[float, Unit]]:
    return [(score, unit) for score, unit, _ in scored_units(question, units, qtype)]


def scored_units(
    question: str, units: Sequence[Unit], qtype: str
) -> list[tuple[float, Unit, float]]:
    """(score, unit, coverage) best first; coverage = the share of the question's weighted key
    words the unit holds (its item's title at half weight). A receipt field row holds the words
    that name its field: the total row "Amount Due … 153.56" answers "total" and "합계" (else
    another receipt's "Total" row outweighs the store named in the question)."""
    terms = [t for t in query_terms(question) if t]
    if not terms or not units:
        return []
    low = [u.text.lower() + " " + u.title.lower() for u in units]
    df = {t: sum(1 for text in low if t in text) for t in terms}
    n = len(units)
    weight = {t: math.log(1 + n / (1 + df[t])) + 0.1 * min(len(t), 6) for t in terms}
    total = sum(weight.values()) or 1.0
    asks = _QTYPE_PATTERN.get(qtype)
    field_words = {t for t in terms if asks is not None and asks.search(t)}
    out = []
    for unit in units:
        body = unit.text.lower()
        title = unit.title.lower()
        is_field = bool(unit.label) and unit.label == _FIELD_FOR.get(qtype)
        held = {t for t in terms if t in body or (is_field and t in field_words)}
        hit = sum(weight[t] for t in held)
        hit += 0.5 * sum(w for t, w in weight.items() if t not in held and t in title)
        cover = hit / total
        score = cover
        if qtype != "other" and find_span(unit.text, qtype, question) is not None:
            score += 0.15
        if labelled_value(unit.text, qtype) is not None:
            score += 0.25
        if is_field:
            score += 0.6
        score += 0.04 / (1 + unit.rank)
        out.append((score, unit, cover))
    out.sort(key=lambda su: -su[0])
    return out


_FIELD_FOR = {"amount": "total", "date": "date", "place": "address", "store": "store"}
_QTYPE_PATTERN = dict(_QTYPE_RULES)


class InstantAnswerer:
    """Finds instant answers in one library (cheap to build; shares the assistant's searcher)."""

    def __init__(self, library: Library, retriever: Retriever) -> None:
        self.library = library
        self.retriever = retriever

    def answer(self, question: str, *, photo_id: str | None = None) -> InstantAnswer | None:
        """The best unit for ``question`` (within one photo when ``photo_id`` is given), or
        None when nothing covers enough of the question."""
        started = time.perf_counter()
        qtype = question_type(question)
        units = self.photo_units(photo_id, 0) if photo_id else self.units(question)
        scored = scored_units(question, units, qtype)
        if not scored:
            return None
        score, unit, cover = scored[0]
        if photo_id is None and score < MIN_SCORE:
            return None
        span = find_span(unit.text, qtype, question) if qtype != "other" else None
        ms = (time.perf_counter() - started) * 1000
        return InstantAnswer(unit.text, span, unit.item_id, unit.kind, unit.title, unit.start,
                             unit.end, qtype, score, ms, cover)  # fmt: skip

    def units(self, question: str) -> list[Unit]:
        q = clean_query(question)
        if not q:
            return []
        hits = list(self.retriever.searcher.search(q, limit=SEARCH_HITS).hits)
        from storage import chunks as chunk_store

        rows = chunk_store.get_chunks(self.library.db, [h.chunk_id for h in hits if h.chunk_id])
        out: list[Unit] = []
        for rank, hit in enumerate(hits):
            if hit.kind == "photo":
                out += self.photo_units(hit.item_id, rank, hit.title)
                continue
            chunks = [rows[hit.chunk_id]] if hit.chunk_id in rows else []
            if not chunks or chunks[0].source in ("title", "tags"):
                chunks = [c for c in chunk_store.chunks_of(self.library.db, hit.item_id)
                          if c.source not in ("title", "tags")][:8]  # fmt: skip
            for chunk in chunks:
                for text, a, b in split_units(chunk.text, chunk.start):
                    out.append(Unit(text, hit.item_id, hit.kind, hit.title, a, b, rank))
        return out

    def photo_units(self, photo_id: str | None, rank: int, title: str = "") -> list[Unit]:
        """A photo's OCR rows as laid out (label … value), its extracted fields first."""
        if not photo_id:
            return []
        lines = self.library.photos.ocr_lines(PhotoId(photo_id))
        rows = layout_rows(lines)
        if not title:
            title = self.library.photos.get(PhotoId(photo_id)).title
        fields = extract_fields(rows)
        if fields.store and fields.store not in title:
            title = f"{title} · {fields.store}"  # "the total at <store>" matches every row
        out = [Unit(rows[fields.rows[name]].text, photo_id, "photo", title, 0, 0, rank, name)
               for name, _ in fields.items() if name in fields.rows]  # fmt: skip
        seen = {u.text for u in out}
        out += [Unit(r.text, photo_id, "photo", title, 0, 0, rank) for r in rows
                if r.text not in seen]  # fmt: skip
        return out
