"""Layout-faithful text of a photo's OCR lines, and the fields of a receipt or notice.

OCR engines return lines grouped in blocks; on a receipt the labels ("Total Amnt Payable :")
often land in one block and the amounts ("79.50") in another, so a model reading the blocks
in order pairs the wrong label with the wrong number. :func:`layout_rows` rebuilds the page
as the eye reads it: lines whose vertical extents overlap are one row, left to right, and a
large horizontal gap inside a row is shown as `` … `` (label … value). Rows separated by a
vertical gap larger than ~1.2 line heights start a new block (a blank line in the text).

:func:`extract_fields` then reads store, date, total and address deterministically where the
layout makes them clear: the store is the first real name line at the top (not the district,
not "RECEIPT"), the total is the amount on the row of the strongest total label, an address is
the run of rows that look like one. Nothing here guesses: a field that is not clear is None.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

GAP = " … "
_MONEY = re.compile(
    r"(?<![\w.,/-])(?:(?:RM|S\$|US\$|\$|₩|€|£|KRW|USD)\s?)?"
    r"(-?\d{1,3}(?:[,.]\d{3})+(?:[.,]\d{1,2})?|-?\d+[.,]\d{2}|-?\d{3,})"
    r"(?:\s?(?:원|won|KRW))?(?![\w.,/-])"
)
_DATE = re.compile(
    r"\b(?:19|20)\d{2}\s*[-./년]\s*\d{1,2}\s*[-./월]\s*\d{1,2}\s*일?"
    r"|\b\d{1,2}[-./]\d{1,2}[-./](?:19|20)?\d{2}\b"
    r"|\b\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?,?\s+(?:19|20)\d{2}"
    r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+(?:19|20)\d{2}",
    re.IGNORECASE,
)
# Total labels, strongest first; "subtotal", "total qty" and the like are not totals.
_TOTAL_LABELS = (
    r"grand\s*total|amount\s*due|total\s*amo?u?n?t\s*payable|total\s*payable|net\s*total"
    r"|total\s*due|balance\s*due|결제\s*금액|받을\s*금액|청구\s*금액|총\s*결제|합\s*계\s*금액|총\s*금액"
    r"|총\s*액|총\s*합계",
    r"total(?:\s*\(?incl[^)]*\)?)?|합\s*계|총계",
)
_NOT_TOTAL = re.compile(
    r"sub\s*-?\s*total|total\s*(?:qty|quantity|items?|disc|discount|savings|tax|gst|vat)"
    r"|소\s*계|수량|할인|부가세|과세|면세|items?\s*total",
    re.IGNORECASE,
)
_DATE_LABEL = re.compile(r"date|일자|일시|날짜|거래일|발행일", re.IGNORECASE)
_ADDRESS = re.compile(
    r"\b(?:jalan|jln|street|st\.?|road|rd\.?|avenue|ave\.?|blvd|lane|taman|no\.?\s*\d+|"
    r"suite|floor|level|unit)\b|\b\d{5}\b"
    r"|[가-힣]+(?:시|도|구|군|읍|면|동|리)\s|[가-힣0-9]+(?:로|길)\s*\d+",
    re.IGNORECASE,
)
_NOT_STORE = re.compile(
    r"receipt|invoice|tax|영수증|계산서|주문서|welcome|thank|감사|bill\b|cash|copy|공지|안내",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?:tel|phone|전화|☎)|\b0\d{1,2}[-) ]\d{3,4}-\d{4}\b", re.IGNORECASE)


class LineLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def box(self) -> tuple[float, float, float, float]: ...  # x0, y0, x1, y1 in pixels


@dataclass(frozen=True)
class Row:
    """One visual row: its pieces left to right, and the block it belongs to."""

    pieces: tuple[str, ...]
    top: float
    bottom: float
    block: int
    height: float

    @property
    def text(self) -> str:
        return GAP.join(self.pieces) if len(self.pieces) > 1 else self.pieces[0]

    @property
    def plain(self) -> str:
        return " ".join(self.pieces)


@dataclass
class Fields:
    store: str | None = None
    date: str | None = None
    total: str | None = None
    address: str | None = None
    phone: str | None = None
    rows: dict[str, int] = field(default_factory=dict)  # field → index of the row it came from

    def items(self) -> list[tuple[str, str]]:
        out = [("store", self.store), ("date", self.date), ("total", self.total),
               ("address", self.address), ("phone", self.phone)]  # fmt: skip
        return [(k, v) for k, v in out if v]


def layout_rows(lines: Sequence[LineLike]) -> list[Row]:
    """OCR lines → visual rows in reading order (top to bottom, left to right), in blocks."""
    boxes = [(ln.text.strip(), tuple(float(v) for v in ln.box)) for ln in lines if ln.text.strip()]
    if not boxes:
        return []
    heights = [max(1.0, b[3] - b[1]) for _, b in boxes]
    h = statistics.median(heights)
    slope = _skew(boxes, h)
    if slope:
        shifted: list[tuple[str, tuple[float, ...]]] = []
        for t, b in boxes:
            dy = slope * (b[0] + b[2]) / 2
            shifted.append((t, (b[0], b[1] - dy, b[2], b[3] - dy)))
        boxes = shifted
    boxes.sort(key=lambda tb: ((tb[1][1] + tb[1][3]) / 2, tb[1][0]))
    rows: list[list[tuple[str, tuple[float, ...]]]] = []
    for text, box in boxes:
        centre = (box[1] + box[3]) / 2
        placed = False
        for row in reversed(rows[-3:]):
            top = statistics.median(b[1] for _, b in row)
            bottom = statistics.median(b[3] for _, b in row)
            row_centre = (top + bottom) / 2
            overlap = min(bottom, box[3]) - max(top, box[1])
            lower = min(bottom - top, box[3] - box[1]) or 1.0
            if abs(centre - row_centre) <= 0.5 * h and overlap >= 0.4 * lower:
                row.append((text, box))
                placed = True
                break
        if not placed:
            rows.append([(text, box)])
    out: list[Row] = []
    block = 0
    prev_bottom: float | None = None
    for row in rows:
        row.sort(key=lambda tb: tb[1][0])
        pieces: list[str] = []
        last_x1: float | None = None
        for text, box in row:
            if pieces and last_x1 is not None and box[0] - last_x1 <= 1.2 * h:
                pieces[-1] = f"{pieces[-1]} {text}"  # words of one phrase split by the engine
            else:
                pieces.append(text)
            last_x1 = box[2]
        top = min(b[1] for _, b in row)
        bottom = max(b[3] for _, b in row)
        if prev_bottom is not None and top - prev_bottom > 1.2 * h:
            block += 1
        prev_bottom = bottom
        height = statistics.median(b[3] - b[1] for _, b in row)
        out.append(Row(tuple(pieces), top, bottom, block, height))
    return out


def _skew(boxes: Sequence[tuple[str, tuple[float, ...]]], h: float) -> float:
    """Vertical drift per pixel of x (a photo taken at a slight angle): estimated from the
    right-hand column (amounts) against the left-hand one (labels). The slope that lines the
    two columns' rows up best wins; 0 when there are no two columns or it is not clearer."""
    x0 = min(b[0] for _, b in boxes)
    x1 = max(b[2] for _, b in boxes)
    width = x1 - x0
    if width <= 0:
        return 0.0
    centres = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for _, b in boxes]
    left = [c for c, (_, b) in zip(centres, boxes, strict=True) if b[2] < x0 + 0.5 * width]
    right = [c for c, (_, b) in zip(centres, boxes, strict=True) if b[0] > x0 + 0.6 * width]
    if len(left) < 2 or len(right) < 2:
        return 0.0

    def cost(slope: float) -> float:
        ly = [y - slope * x for x, y in left]
        return sum(min(min(abs(y - slope * x - v) for v in ly), h) for x, y in right)

    candidates = {0.0}
    for rx, ry in right:
        for lx, ly in left:
            if abs(ry - ly) < h and rx - lx > 0:
                slope = (ry - ly) / (rx - lx)
                if abs(slope) <= 0.09:  # ±5°
                    candidates.add(round(slope, 4))
    best = min(candidates, key=lambda s: (round(cost(s), 1), abs(s)))
    return best if cost(best) < 0.8 * cost(0.0) else 0.0


def layout_text(rows: Sequence[Row]) -> str:
    """Rows as text: one row a line, a blank line between blocks."""
    out: list[str] = []
    block = rows[0].block if rows else 0
    for row in rows:
        if row.block != block:
            out.append("")
            block = row.block
        out.append(row.text)
    return "\n".join(out)


def money_values(text: str) -> list[str]:
    """Amounts in ``text`` (not dates, not phone numbers), as written."""
    spans = [m.span() for m in _DATE.finditer(text)]
    out = []
    for m in _MONEY.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        out.append(m.group(0).strip())
    return out


def _amount(text: str) -> float:
    digits = re.sub(r"[^\d.,-]", "", text)
    if re.search(r"[.,]\d{2}$", digits):
        whole, frac = digits[:-3], digits[-2:]
        digits = re.sub(r"[.,]", "", whole) + "." + frac
    else:
        digits = re.sub(r"[.,]", "", digits)
    try:
        return float(digits)
    except ValueError:
        return 0.0


def _total(rows: Sequence[Row]) -> tuple[str, int] | None:
    for labels in _TOTAL_LABELS:
        pattern = re.compile(labels, re.IGNORECASE)
        found: list[tuple[float, str, int]] = []
        for i, row in enumerate(rows):
            plain = row.plain
            if not pattern.search(plain) or _NOT_TOTAL.search(plain):
                continue
            values = money_values(plain[pattern.search(plain).end() :])  # type: ignore[union-attr]
            if not values and i + 1 < len(rows):  # the amount on the next row, alone
                nxt = rows[i + 1].plain
                only = money_values(nxt)
                if len(only) == 1 and len(nxt) <= len(only[0]) + 4:
                    values = only
            if values:
                found.append((_amount(values[-1]), values[-1], i))
        if found:
            _, value, i = max(found)
            return value, i
    return None


def _date(rows: Sequence[Row]) -> tuple[str, int] | None:
    labelled = [(i, r) for i, r in enumerate(rows) if _DATE_LABEL.search(r.plain)]
    for i, row in [*labelled, *enumerate(rows)]:
        m = _DATE.search(row.plain)
        if m:
            return m.group(0).strip(), i
    return None


def _is_address(text: str) -> bool:
    return bool(_ADDRESS.search(text + " ")) and not _PHONE.search(text)


def _address(rows: Sequence[Row], skip: set[int]) -> tuple[str, int] | None:
    for i, row in enumerate(rows):
        if i in skip or not _is_address(row.plain):
            continue
        parts = [row.plain]
        j = i + 1
        while j < len(rows) and rows[j].block == row.block and j not in skip:
            nxt = rows[j].plain
            if _PHONE.search(nxt) or _DATE.search(nxt) or ":" in nxt or _NOT_STORE.search(nxt):
                break
            if not (_is_address(nxt) or (re.fullmatch(r"[\w\s,.'#-]+", nxt) and len(nxt) < 40)):
                break
            parts.append(nxt)
            j += 1
            if len(parts) >= 4:
                break
        return ", ".join(p.rstrip(",") for p in parts), i
    return None


def _store(rows: Sequence[Row]) -> tuple[str, int] | None:
    """The shop's name: among the first rows of the top block, the tallest line that is a name
    (letters, not an address/phone/date/amount, not "RECEIPT")."""
    if not rows:
        return None
    head = [(i, r) for i, r in enumerate(rows[:6]) if r.block == rows[0].block] or [(0, rows[0])]
    names = []
    for i, row in head:
        text = row.plain
        letters = sum(ch.isalpha() for ch in text)
        if letters < 2 or letters < 0.5 * len(text.replace(" ", "")):
            continue
        if _NOT_STORE.search(text) or _PHONE.search(text) or _DATE.search(text):
            continue
        if re.match(r"^[^:：]{1,12}[:：]", text):  # "장소: 체육관", "Date: …" are labels
            continue
        if _is_address(text) and i > 0:
            continue
        names.append((row.height, -i, text, i))
    if not names:
        return None
    tallest = max(n[0] for n in names)
    first = min((n for n in names if n[0] >= 0.85 * tallest), key=lambda n: -n[1])
    return first[2], first[3]


def extract_fields(rows: Sequence[Row]) -> Fields:
    out = Fields()
    if (total := _total(rows)) is not None:
        out.total, out.rows["total"] = total
    if (date := _date(rows)) is not None:
        out.date, out.rows["date"] = date
    if (store := _store(rows)) is not None:
        out.store, out.rows["store"] = store
    skip = {out.rows["store"]} if "store" in out.rows else set()
    if (address := _address(rows, skip)) is not None:
        out.address, out.rows["address"] = address
    for i, row in enumerate(rows):
        m = re.search(r"\b0\d{1,2}[-) ]\d{3,4}-\d{4}\b|\+?\d[\d -]{7,}\d", row.plain)
        if m and _PHONE.search(row.plain):
            out.phone, out.rows["phone"] = m.group(0), i
            break
    return out


def render_fields(fields: Fields, lang: str) -> str:
    """The fields as lines for a prompt ("" when none was clear)."""
    names = {
        "store": ("가게", "Store"),
        "date": ("날짜", "Date"),
        "total": ("합계", "Total"),
        "address": ("주소", "Address"),
        "phone": ("전화", "Phone"),
    }
    lines = [f"{names[k][0 if lang == 'ko' else 1]}: {v}" for k, v in fields.items()]
    return "\n".join(lines)
