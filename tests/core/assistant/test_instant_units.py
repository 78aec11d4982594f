"""The instant answer's sentence splitter keeps every sentence of a long line."""

from __future__ import annotations

import pytest

from core.assistant.grounding import focus
from core.assistant.instant import split_units

ABSTRACT = (
    "DESIGN Population-based cohort study in Olmsted County, Minnesota.Patients were 4537 "
    "residents (57% women) with heart failure between 1979 and 2000.Framingham criteria were "
    "used to validate the diagnosis. CONCLUSION The incidence of heart failure has not "
    "declined during 2 decades."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ABSTRACT, ["between 1979 and 2000.Framingham", "CONCLUSION The incidence"]),
        (
            "Adults need about 0.8 g of protein per kg of body weight per day, more when they "
            "train. The total was $153.56 at the till, paid by card on the way home.",
            ["Adults need about 0.8 g", "The total was $153.56 at the till"],
        ),
        (
            "오늘은 서울역에서 기차를 탔다. 표는 12.5 달러였고 자리는 창가였다! 도착하니 비가 와서 "
            "우산을 샀다 (3.000원). 끝.",
            ["표는 12.5 달러였고", "도착하니 비가 와서"],
        ),
    ],
)
def test_no_text_of_a_long_line_is_lost(text: str, expected: list[str]) -> None:
    units = split_units(text)
    # every non-space character is in some unit, in order
    assert "".join(u for u, _, _ in units).replace(" ", "") == text.replace(" ", "")
    for piece in expected:
        assert any(piece in u for u, _, _ in units), piece
    for unit, start, end in units:
        assert text[start:end] == unit


def test_focus_keeps_the_sentence_with_the_asked_number() -> None:
    terms = ["incidence", "heart", "failure", "women", "1979"]
    assert "1979" in focus(ABSTRACT, terms, keep=1, neighbours=0)
