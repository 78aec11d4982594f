"""Layout-faithful OCR text and deterministic receipt fields (core.receipts), and the
question-type aware pieces of the instant answer (core.instant) that need no library.

The OCR lines are written out by hand the way the engines return them (axis-aligned boxes,
labels and amounts in different blocks); the real OCR → layout path runs in
``benchmarks/bench_receipts.py`` on rendered, photographed receipts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.assistant.instant import Unit as IUnit
from core.assistant.instant import find_span, question_type, score_units, split_units
from core.assistant.receipts import extract_fields, layout_rows, layout_text, money_values


@dataclass
class Line:
    text: str
    box: tuple[float, float, float, float]


RECEIPT = [
    Line("KL CENTRAL", (100, 10, 300, 40)),
    Line("SUPER MART SDN BHD", (60, 48, 340, 90)),
    Line("No. 12, Jalan Ampang", (80, 100, 320, 120)),
    Line("50450 Kuala Lumpur", (80, 125, 320, 145)),
    Line("Tel: 03-2162 1234", (80, 150, 320, 170)),
    Line("Date: 12/03/2019", (10, 200, 200, 220)),
    Line("Subtotal", (10, 270, 100, 290)),
    Line("Total Amnt Payable :", (10, 300, 200, 320)),
    Line("Cash", (10, 330, 100, 350)),
    # the amounts come as a second block, as engines often return a right-hand column
    Line("75.00", (300, 270, 360, 290)),
    Line("79.50", (300, 301, 360, 321)),
    Line("100.00", (300, 331, 370, 351)),
]


def test_labels_and_values_share_a_row_in_reading_order() -> None:
    text = layout_text(layout_rows(RECEIPT))
    assert "Total Amnt Payable : … 79.50" in text
    assert text.index("Subtotal … 75.00") < text.index("Total Amnt") < text.index("Cash … 100")
    assert "\n\n" in text  # blocks separated


def test_fields_store_date_total_address() -> None:
    fields = extract_fields(layout_rows(RECEIPT))
    assert fields.total == "79.50"  # not the subtotal, not the cash given
    assert fields.date == "12/03/2019"
    assert fields.store == "SUPER MART SDN BHD"  # the tallest name line, not the district
    assert fields.address == "No. 12, Jalan Ampang, 50450 Kuala Lumpur"  # both lines


def test_a_photo_taken_at_an_angle_is_deskewed() -> None:
    """The amounts column drifts down by half a row: without the skew estimate every label
    would be paired with the previous amount."""
    labels = ["공급가액", "부가세", "결제금액", "받은금액"]
    amounts = ["166,300", "16,630", "182,930", "190,000"]
    lines = []
    for i, (label, amount) in enumerate(zip(labels, amounts, strict=True)):
        y = 100 + 32 * i
        lines.append(Line(label, (100, y, 180, y + 30)))
        lines.append(Line(amount, (560, y + 17, 650, y + 47)))
    rows = layout_rows(lines)
    assert [r.text for r in rows] == [f"{a} … {b}" for a, b in zip(labels, amounts, strict=True)]
    assert extract_fields(rows).total == "182,930"


def test_korean_total_label_priority() -> None:
    lines = [
        Line("소담 식당", (100, 0, 300, 40)),
        Line("합계", (10, 100, 80, 120)),
        Line("50,000", (300, 100, 380, 120)),
        Line("할인", (10, 130, 80, 150)),
        Line("5,000", (300, 130, 380, 150)),
        Line("결제금액", (10, 160, 100, 180)),
        Line("45,000원", (300, 160, 390, 180)),
    ]
    assert extract_fields(layout_rows(lines)).total == "45,000원"


def test_money_values_skip_dates() -> None:
    assert money_values("2024.03.05 Total 1,234.50") == ["1,234.50"]
    assert money_values("no amounts here") == []


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("카페 영수증의 합계는 얼마였어?", "amount"),
        ("How much was the fee?", "amount"),
        ("임종석이 지명수배 된 날은?", "date"),
        ("When did it open?", "date"),
        ("회원은 몇 명인가?", "count"),
        ("평양축전에 파견된 인물은 누구인가?", "person"),
        ("Who founded it?", "person"),
        ("경희대 내 어디인가?", "place"),
        ("Where is the meeting?", "place"),
        ("이 영수증은 어느 가게 거야?", "store"),
        ("Tell me about cheese", "other"),
    ],
)
def test_question_types(question: str, qtype: str) -> None:
    assert question_type(question) == qtype


def test_spans_by_type_skip_what_the_question_says() -> None:
    text = "임종석은 1989년 2월 15일 여의도 농민 폭력 시위를 주도한 혐의로 지명수배되었다."
    span = find_span(text, "date", "임종석이 지명수배 된 날은?")
    assert span is not None and text[span[0] : span[1]] == "1989년 2월 15일"
    row = "Total Amnt Payable : … 79.50"
    span = find_span(row, "amount", "What was the total?")
    assert span is not None and row[span[0] : span[1]] == "79.50"
    notice = "Place: City Library, 3rd Floor"
    span = find_span(notice, "place", "Where is the event?")
    assert span is not None and notice[span[0] : span[1]] == "City Library, 3rd Floor"
    assert find_span("no numbers at all", "amount", "how much?") is None
    # "몇 명": only a number with that counter; the nearest one after the question's words
    text = "2019년 집회에 학생 40명이 모였고, 그중 제적당한 학생은 8명이었다."
    span = find_span(text, "count", "제적당한 학생은 몇 명인가?")
    assert span is not None and text[span[0] : span[1]] == "8명"


def test_units_keep_their_character_spans() -> None:
    text = "Intro line.\nBrie is soft. It comes from France. " + "x" * 130 + "\n| a | b |\n"
    units = split_units(text, offset=100)
    for unit, start, end in units:
        assert text[start - 100 : end - 100] == unit
    assert any(u.startswith("| a") for u, _, _ in units)
    assert "It comes from France." in [u for u, _, _ in units]


def test_scoring_prefers_the_sentence_with_the_rare_key_words() -> None:
    units = [
        IUnit("Cheese is made from milk.", "a", "note", "Cheese", 0, 10, 0),
        IUnit(
            "Brie is a soft cheese from France, aged four weeks.", "a", "note", "Cheese", 10, 60, 0
        ),
        IUnit("Cheddar is a hard cheese from England.", "b", "note", "Cheese", 0, 30, 1),
    ]
    best = score_units("Where does Brie cheese come from?", units, "place")[0][1]
    assert best.text.startswith("Brie")
