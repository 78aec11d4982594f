"""A receipt / notice QA set rendered from templates, with a photographed look.

Seeded and rebuilt at benchmark time (never committed as images): Korean and English receipts
(store name, address on one or two lines, phone, date, items with right-aligned prices,
subtotal, tax, total, cash, change) and notices (title, date, place, fee), in varied fonts,
sizes and layouts, then put on a table: perspective, slight rotation, blur, uneven light and
noise. Each image comes with questions and their answers (store, date, total; notices: date,
place, fee). The values are drawn from word lists and random numbers, so nothing is tuned to
one file.

    python benchmarks/receipt_set.py OUT_DIR [--n 44]   # writes *.jpg and qa.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

FONT_DIRS = (Path("/usr/share/fonts/truetype/nanum"), Path("/usr/share/fonts/truetype/dejavu"))
KO_FONTS = ("NanumGothic.ttf", "NanumBarunGothic.ttf", "NanumMyeongjo.ttf",
            "NanumSquareRoundR.ttf", "NanumGothicCoding.ttf")  # fmt: skip
EN_FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf",
            *KO_FONTS[:2])  # fmt: skip

EN_STORES = ("Blue Harbor Cafe", "Maple Street Bakery", "Green Leaf Grocery", "Sunrise Diner",
             "Northside Hardware", "Golden Wok Kitchen", "Corner Book Shop", "Fresh Mart",
             "Riverside Pharmacy", "Olive Tree Deli")  # fmt: skip
KO_STORES = ("행복한 빵집", "푸른숲 카페", "한빛 마트", "소담 식당", "별빛 서점", "우리 약국",
             "바다 횟집", "초록 정육점", "하늘 분식", "달빛 커피")  # fmt: skip
EN_STREETS = ("Oak Street", "Harbor Road", "King Avenue", "Elm Lane", "Station Road",
              "Park Avenue")  # fmt: skip
EN_CITIES = ("Springfield", "Riverton", "Lakewood", "Fairview", "Georgetown")
KO_CITIES = ("서울시 마포구", "부산시 해운대구", "대구시 중구", "인천시 남동구", "광주시 서구",
             "서울시 강남구")  # fmt: skip
KO_ROADS = ("월드컵로", "해운대로", "중앙대로", "구월로", "상무대로", "테헤란로")
EN_ITEMS = ("Latte", "Bagel", "Orange Juice", "Sandwich", "Muffin", "Soup", "Salad", "Tea",
            "Cookies", "Milk", "Bread", "Batteries", "Notebook", "Pasta")  # fmt: skip
KO_ITEMS = ("아메리카노", "카페라떼", "식빵", "크루아상", "김밥", "라면", "떡볶이", "우유", "생수",
            "사과", "두부", "계란", "커피콩", "쿠키")  # fmt: skip
KO_NOTICES = ("주민 총회 안내", "정기 점검 안내", "봄맞이 대청소", "독서 모임 공지", "바자회 안내")
EN_NOTICES = ("Annual Members Meeting", "Community Cleanup Day", "Book Club Night",
              "Spring Bazaar", "Building Maintenance")  # fmt: skip
KO_PLACES = ("관리사무소 2층 회의실", "주민센터 강당", "시립도서관 3층", "101동 앞 광장", "체육관")
EN_PLACES = ("Community Hall, Room 2", "City Library, 3rd Floor", "Main Lobby", "Riverside Park",
             "Town Gym")  # fmt: skip
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip


@dataclass(frozen=True)
class QA:
    image: str
    kind: str  # receipt | notice
    lang: str
    field: str  # store | date | total | place | fee
    question: str
    answers: tuple[str, ...]


def _font(name: str, size: int):
    from PIL import ImageFont

    for d in FONT_DIRS:
        if (d / name).is_file():
            return ImageFont.truetype(str(d / name), size)
    raise FileNotFoundError(name)


def _money(rng: random.Random, lang: str) -> tuple[int, str]:
    if lang == "ko":
        value = rng.randrange(10, 400) * 100
        return value, f"{value:,}"
    cents = rng.randrange(150, 9000)
    return cents, f"{cents / 100:.2f}"


def _fmt_total(value: int, lang: str) -> str:
    return f"{value:,}" if lang == "ko" else f"{value / 100:.2f}"


def _receipt(rng: random.Random, lang: str) -> tuple[list[tuple[str, str, str]], dict]:
    """Rows as (left, right, style) with style in title|big|normal|center."""
    ko = lang == "ko"
    store = rng.choice(KO_STORES if ko else EN_STORES)
    year, month, day = rng.randrange(2019, 2026), rng.randrange(1, 13), rng.randrange(1, 29)
    hh, mm = rng.randrange(8, 22), rng.randrange(60)
    if ko:
        date = rng.choice([f"{year}-{month:02d}-{day:02d}", f"{year}.{month:02d}.{day:02d}",
                           f"{year}년 {month}월 {day}일"])  # fmt: skip
        addr = [f"{rng.choice(KO_CITIES)} {rng.choice(KO_ROADS)} {rng.randrange(1, 300)}"]
        if rng.random() < 0.5:
            addr.append(f"{rng.randrange(1, 12)}층 {rng.randrange(101, 120)}호")
        phone = f"0{rng.randrange(2, 70)}-{rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"
    else:
        date = rng.choice([f"{month:02d}/{day:02d}/{year}", f"{year}-{month:02d}-{day:02d}",
                           f"{MONTHS[month - 1][:3]} {day}, {year}"])  # fmt: skip
        addr = [f"{rng.randrange(1, 999)} {rng.choice(EN_STREETS)}"]
        addr.append(f"{rng.choice(EN_CITIES)}, {rng.randrange(10000, 99999)}")
        phone = f"({rng.randrange(200, 999)}) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"
    rows: list[tuple[str, str, str]] = [(store, "", "title")]
    if rng.random() < 0.4:
        rows.append(("영수증" if ko else "RECEIPT", "", "center"))
    rows += [(a, "", "center") for a in addr]
    rows.append((("전화 " if ko else "Tel ") + phone, "", "center"))
    date_label = rng.choice(["일시", "거래일시", "날짜"] if ko else ["Date", "Date/Time"])
    rows.append((f"{date_label}: {date} {hh:02d}:{mm:02d}", "", "normal"))
    rows.append(("-" * 28, "", "normal"))
    subtotal = 0
    for name in rng.sample(KO_ITEMS if ko else EN_ITEMS, rng.randrange(2, 6)):
        qty = rng.randrange(1, 4)
        value, _ = _money(rng, lang)
        value = value // 10 * 10 if ko else value
        subtotal += value * qty
        rows.append((f"{name} x{qty}", _fmt_total(value * qty, lang), "normal"))
    rows.append(("-" * 28, "", "normal"))
    tax = round(subtotal * 0.1) // (10 if ko else 1) * (10 if ko else 1)
    total = subtotal + tax
    if ko:
        rows += [("공급가액", _fmt_total(subtotal, lang), "normal"),
                 ("부가세", _fmt_total(tax, lang), "normal"),
                 (rng.choice(["합계", "합계 금액", "결제금액"]), _fmt_total(total, lang) + "원",
                  "big")]  # fmt: skip
        paid = (total // 10000 + 1) * 10000
        rows += [("받은금액", _fmt_total(paid, lang), "normal"),
                 ("거스름돈", _fmt_total(paid - total, lang), "normal"),
                 ("감사합니다", "", "center")]  # fmt: skip
    else:
        rows += [("Subtotal", _fmt_total(subtotal, lang), "normal"),
                 ("Tax", _fmt_total(tax, lang), "normal"),
                 (rng.choice(["TOTAL", "Total", "Amount Due", "Grand Total"]),
                  "$" + _fmt_total(total, lang), "big")]  # fmt: skip
        paid = (total // 1000 + 1) * 1000
        rows += [("Cash", _fmt_total(paid, lang), "normal"),
                 ("Change", _fmt_total(paid - total, lang), "normal"),
                 ("Thank you!", "", "center")]  # fmt: skip
    facts = {"store": store, "date": date, "total": _fmt_total(total, lang)}
    return rows, facts


def _notice(rng: random.Random, lang: str) -> tuple[list[tuple[str, str, str]], dict]:
    ko = lang == "ko"
    title = rng.choice(KO_NOTICES if ko else EN_NOTICES)
    year, month, day = rng.randrange(2022, 2027), rng.randrange(1, 13), rng.randrange(1, 29)
    hh = rng.randrange(9, 20)
    place = rng.choice(KO_PLACES if ko else EN_PLACES)
    _fee_value, fee = _money(rng, lang)
    if ko:
        date = f"{year}년 {month}월 {day}일"
        rows = [("공지", "", "center"), (title, "", "title"),
                (f"일시: {date} 오후 {hh - 12 if hh > 12 else hh}시", "", "normal"),
                (f"장소: {place}", "", "normal"), (f"참가비: {fee}원", "", "normal"),
                ("많은 참여 바랍니다.", "", "normal"), ("관리사무소", "", "center")]  # fmt: skip
    else:
        date = f"{MONTHS[month - 1]} {day}, {year}"
        rows = [("NOTICE", "", "center"), (title, "", "title"), (f"Date: {date}", "", "normal"),
                (f"Time: {hh}:00", "", "normal"), (f"Place: {place}", "", "normal"),
                (f"Fee: ${fee}", "", "normal"),
                ("All residents welcome.", "", "normal")]  # fmt: skip
    return rows, {"date": date, "place": place, "fee": fee, "title": title}


def _render(rows: list[tuple[str, str, str]], rng: random.Random, lang: str):
    from PIL import Image, ImageDraw

    font_name = rng.choice(KO_FONTS if lang == "ko" else EN_FONTS)
    size = rng.randrange(24, 32)
    width = rng.randrange(560, 700)
    fonts = {"normal": _font(font_name, size), "center": _font(font_name, size),
             "big": _font(font_name, int(size * 1.25)),
             "title": _font(font_name, int(size * rng.uniform(1.4, 1.8)))}  # fmt: skip
    line_gap = int(size * rng.uniform(0.45, 0.8))
    height = sum(fonts[s].size + line_gap for _, _, s in rows) + 80
    paper = Image.new("RGB", (width, height), tuple(rng.randrange(235, 256) for _ in range(3)))
    draw = ImageDraw.Draw(paper)
    y = 40
    ink = tuple(rng.randrange(0, 60) for _ in range(3))
    margin = rng.randrange(24, 48)
    for left, right, style in rows:
        font = fonts[style]
        if style in ("title", "center"):
            w = draw.textlength(left, font=font)
            draw.text(((width - w) / 2, y), left, font=font, fill=ink)
        else:
            draw.text((margin, y), left, font=font, fill=ink)
            if right:
                w = draw.textlength(right, font=font)
                draw.text((width - margin - w, y), right, font=font, fill=ink)
        y += font.size + line_gap
    return paper


def _photograph(paper, rng: random.Random):
    """The paper on a table, seen by a phone: perspective, rotation, light, blur, noise."""
    import numpy as np
    from PIL import Image, ImageFilter

    w, h = paper.size
    pad = int(max(w, h) * 0.12)
    table = Image.new("RGB", (w + 2 * pad, h + 2 * pad),
                      tuple(rng.randrange(60, 140) for _ in range(3)))  # fmt: skip
    table.paste(paper, (pad, pad))
    W, H = table.size
    j = lambda s: rng.uniform(-s, s) * min(W, H)  # noqa: E731
    src = [(j(0.02), j(0.02)), (W + j(0.02), j(0.02)), (W + j(0.02), H + j(0.02)),
           (j(0.02), H + j(0.02))]  # fmt: skip
    dst = [(0, 0), (W, 0), (W, H), (0, H)]
    coeffs = _perspective(dst, src)
    img = table.transform((W, H), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    img = img.rotate(rng.uniform(-1.5, 1.5), resample=Image.Resampling.BICUBIC, expand=False,
                     fillcolor=(90, 90, 90))  # fmt: skip
    arr = np.asarray(img).astype(np.float32)
    ys, xs = np.mgrid[0:H, 0:W]
    light = 1.0 - rng.uniform(0.05, 0.25) * ((xs / W) * rng.uniform(0.5, 1) + ys / H) / 2
    arr = arr * light[..., None] + np.random.default_rng(rng.randrange(1 << 30)).normal(
        0, rng.uniform(3, 9), arr.shape)  # fmt: skip
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.1)))
    scale = rng.uniform(0.85, 1.1)
    return img.resize((int(W * scale), int(H * scale)))


def _perspective(dst: list, src: list) -> list[float]:
    import numpy as np

    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=float)
    b = np.array([c for p in src for c in p], dtype=float)
    return list(np.linalg.solve(a, b))


def _questions(image: str, kind: str, lang: str, facts: dict) -> list[QA]:
    ko = lang == "ko"
    total = facts.get("total", "")
    if kind == "receipt":
        return [
            QA(image, kind, lang, "total",
               "이 영수증의 합계는 얼마야?" if ko else "What is the total on this receipt?",
               (total, total.replace(",", ""))),
            QA(image, kind, lang, "date",
               "이 영수증의 날짜는 언제야?" if ko else "What is the date on this receipt?",
               (facts["date"],)),
            QA(image, kind, lang, "store",
               "이 영수증은 어느 가게 거야?" if ko else "Which store is this receipt from?",
               (facts["store"],)),
        ]  # fmt: skip
    fee = facts["fee"]
    return [
        QA(image, kind, lang, "date", "이 공지의 행사는 언제야?" if ko else "When is the event?",
           (facts["date"],)),
        QA(image, kind, lang, "place", "행사 장소는 어디야?" if ko else "Where is the event?",
           (facts["place"],)),
        QA(image, kind, lang, "fee", "참가비는 얼마야?" if ko else "How much is the fee?",
           (fee, fee.replace(",", ""))),
    ]  # fmt: skip


def build(out: Path, n: int = 44, seed: int = 11) -> list[QA]:
    """``n`` images (2/3 receipts, 1/3 notices, half Korean) and their questions."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    qas: list[QA] = []
    for i in range(n):
        lang = "ko" if i % 2 == 0 else "en"
        kind = "notice" if i % 3 == 2 else "receipt"
        rows, facts = (_receipt if kind == "receipt" else _notice)(rng, lang)
        image = f"{kind}_{i:03d}_{lang}.jpg"
        _photograph(_render(rows, rng, lang), rng).save(out / image, quality=rng.randrange(70, 92))
        qas += _questions(image, kind, lang, facts)
    with (out / "qa.jsonl").open("w", encoding="utf-8") as f:
        for qa in qas:
            f.write(json.dumps(asdict(qa), ensure_ascii=False) + "\n")
    return qas


def load(out: Path) -> list[QA]:
    with (out / "qa.jsonl").open(encoding="utf-8") as f:
        return [QA(**{**d, "answers": tuple(d["answers"])}) for d in map(json.loads, f)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=44)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    qas = build(args.out, args.n, args.seed)
    print(f"{args.n} images, {len(qas)} questions in {args.out}")


if __name__ == "__main__":
    main()
