"""What a note row and a source card show: the first line of text, day groups, initials."""

from __future__ import annotations

from datetime import date, datetime

from desktop.gui.chat.bubbles import plain_text
from desktop.gui.notes.item_list import day_group, first_line, initial_group


def test_first_line_skips_front_matter_headings_and_tables():
    body = "---\ntags: [coffee]\n---\n# Coffee\n\n| a | b |\n|---|---|\n\nPour **over** at 92 °C."
    assert first_line(body, "Coffee") == "Pour over at 92 °C."
    assert (
        first_line("# 김치볶음밥 (Kimchi)\n\n- 재료: [[김치]] ![[a.jpg]]", "김치볶음밥")
        == "재료: 김치 a.jpg"
    )
    assert first_line("# Only a heading", "Other") == "Only a heading"
    assert first_line("", "x") == ""


def test_day_groups_and_initials():
    today = date(2026, 12, 4)  # a Friday
    stamp = lambda y, m, d: datetime(y, m, d, 12).timestamp()  # noqa: E731
    assert day_group(stamp(2026, 12, 4), today) == "Today"
    assert day_group(stamp(2026, 12, 3), today) == "Yesterday"
    assert day_group(stamp(2026, 11, 30), today) == "This week"  # Monday
    assert day_group(stamp(2026, 11, 24), today) == "Last week"
    assert day_group(stamp(2026, 3, 1), today) == "March 2026"
    assert [initial_group(t) for t in ("가방", "바다", "apple", "1st", "")] == [
        "ㄱ",
        "ㅂ",
        "A",
        "#",
        "#",
    ]


def test_source_passage_is_one_clean_line():
    text = "… jpg]] A light **roast**;\n# Heading see [[카페 기록|카페]] and ![[ab"
    assert plain_text(text) == "A light roast; Heading see 카페 and"
