"""Sources cut to the sentences that matter, and answers whose numbers/names are in no source."""

from __future__ import annotations

from core.assistant.grounding import around, focus, key_values, says_nothing, unsupported


def test_invented_number_is_flagged_and_copied_ones_are_not() -> None:
    assert unsupported("The total was 12 [1].", ["TOTAL … 16,000"], "What was the total?") == ["12"]
    assert unsupported("합계는 16000원입니다 [1].", ["TOTAL … 16,000"]) == []  # same digits
    assert unsupported("It opened in 1989 [2].", ["It opened in 1989."]) == []


def test_names_absent_from_every_source_are_flagged() -> None:
    sources = ["Brie is a soft cheese from France."]
    assert unsupported("It comes from France [1].", sources) == []
    assert unsupported("It comes from Normandy in France [1].", sources) == ["Normandy"]


def test_citation_numbers_are_not_values() -> None:
    assert key_values("Yes [1], [2-3] and 【4】.") == []


def test_focus_keeps_the_sentences_with_the_words_and_their_neighbours() -> None:
    text = ("A one. B two. Brie is soft. It is French. C three. D four. E five. F six. "
            "Brie melts well. G seven.")  # fmt: skip
    cut = focus(text, ["brie"], keep=2)
    assert cut == "… B two. Brie is soft. It is French. … F six. Brie melts well. G seven."
    for piece in cut.split("…"):
        assert piece.strip() in text
    assert focus(text, ["nothing"]) == text  # no sentence has a word: unchanged
    assert focus("Short. Text.", ["short"]) == "Short. Text."


def test_a_number_inside_another_number_is_not_support() -> None:
    assert unsupported("The total was 12 [1].", ["TOTAL 12,500", "Table 3 of 7"]) == ["12"]
    assert unsupported("It was in 2025.", ["Date: 2025.09.28"]) == []


def test_around_keeps_the_sentence_and_its_neighbours() -> None:
    text = "One thing. Two here. Three now. Four then. Five."
    assert around(text, text.index("Three")) == "… Two here. Three now. Four then. …"
    assert around(text, 0) == "One thing. Two here. …"


def test_numbers_before_korean_counters_are_checked() -> None:
    assert unsupported("1418년 [1]", ["세종은 1419년에 즉위하였다."]) == ["1418"]
    assert unsupported("2년 [1]", ["징역 2년을 선고받았다."]) == []


def test_an_answer_of_question_words_or_a_title_says_nothing() -> None:
    question = "금강산 관광지구법 28조에 따라 어느 처벌까지 가능한가?"
    assert says_nothing("[1]") and says_nothing("28조 [1].", question)
    assert says_nothing("[1] 이명박", "전통악기는 무엇인가?", ["이명박"])
    assert not says_nothing("추방까지 가능하다 [1].", question, ["금강산"])


def test_heading_lines_are_no_neighbours() -> None:
    text = "# 이명박\n\n태평소는 음색이 강하다. 북은 힘차다. 셋째 문장."
    assert "# 이명박" not in around(text, text.index("태평소"))
    assert says_nothing("[1] # 이명박", "전통악기는?", ["이명박"])


RECEIPT = """Store/가게: 카페샘물
Total/합계: 16,000
카페 샘물
서울시 종로구 삼 청로 12
2024-07-14 10:32
아메리카노 … 4,500
카 페라테 … 5,000
합계 TOTAL … 16,000
감사합니다 Thank you!"""


def test_a_source_pasted_whole_says_nothing() -> None:
    """The 0.5B answered "what was the total?" with the receipt's whole text."""
    pasted = "\n".join(
        [
            "[1] Store/가게: 카페샘물",
            "Total/합계: 16,000",
            "카페 샘물",
            "서울시 종로구 삼 청로 12",
            "2024-07-14 10:32",
            "아메리카노 … 4,500",
        ]
    )
    question = "카페 영수증의 합계는 얼마였어?"
    assert says_nothing(pasted, question, ["cafe_receipt"], [RECEIPT])
    assert not says_nothing(pasted, question, ["cafe_receipt"])  # nothing to compare with
    # a real answer quoting one line, or a list the sources do not hold, is an answer
    assert not says_nothing("합계는 16,000원입니다 [1].", question, [], [RECEIPT])
    listed = "1. 아메리카노\n2. 라떼\n3. 케이크\n4. 쿠키"
    assert not says_nothing(listed, "무엇을 샀어?", [], [RECEIPT])
