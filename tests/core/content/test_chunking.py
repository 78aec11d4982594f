"""Markdown-aware chunking: structure kept, exact offsets, Korean without spaces."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from core.content.chunking import chunk_markdown, chunk_plain


def _check_offsets(source: str, chunks: list) -> None:
    for chunk in chunks:
        assert source[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()


def test_headings_start_sections_and_carry_their_path() -> None:
    body = (
        "# Trip\n\n" + "Intro about the trip. " * 12 + "\n\n## Day 2\n\nWe saw the sea.\n\n"
        "### Evening\n\nDinner by the port.\n"
    )
    chunks = chunk_markdown(body, max_chars=400)
    _check_offsets(body, chunks)
    assert chunks[0].heading == "Trip"
    assert chunks[0].text.startswith("# Trip")
    assert any(c.heading.startswith("Trip > Day 2") and "sea" in c.text for c in chunks)


def test_code_block_and_list_are_kept_whole() -> None:
    code = "```python\n" + "\n".join(f"x{i} = {i}  # line" for i in range(20)) + "\n```"
    items = "\n".join(f"- item number {i}" for i in range(15))
    body = "# Code\n\n" + "Some text. " * 20 + "\n\n" + code + "\n\n" + items + "\n"
    chunks = chunk_markdown(body, max_chars=300)
    _check_offsets(body, chunks)
    assert any(c.text == code for c in chunks)  # 400+ chars: fits the 2x budget for code
    assert any(c.text == items for c in chunks)


def test_front_matter_is_not_chunked() -> None:
    body = "---\ntags: [a, b]\ntitle: X\n---\n# Real\n\nText here.\n"
    chunks = chunk_markdown(body)
    _check_offsets(body, chunks)
    assert chunks[0].text.startswith("# Real")
    assert all("tags:" not in c.text for c in chunks)


def test_korean_long_paragraph_splits_at_sentence_ends() -> None:
    sentence = "서울에서 친구와 커피를 마시고 한강 공원을 오래 걸었다. "
    body = sentence * 60
    chunks = chunk_markdown(body, max_chars=200)
    _check_offsets(body, chunks)
    assert len(chunks) > 5
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(c.text.endswith("다.") for c in chunks[:-1])


def test_text_without_any_spaces_is_split_by_budget() -> None:
    text = "가나다라마바사" * 100
    chunks = chunk_plain(text, max_chars=150)
    _check_offsets(text, chunks)
    assert "".join(c.text for c in chunks) == text
    assert max(len(c.text) for c in chunks) <= 150


def test_empty_and_blank_inputs_give_no_chunks() -> None:
    assert chunk_markdown("") == []
    assert chunk_markdown("\n\n   \n") == []
    assert chunk_plain("   ") == []


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab 가나.\n#-`|*1")), max_size=600))
def test_offsets_always_match_source(text: str) -> None:
    chunks = chunk_markdown(text, max_chars=80)
    _check_offsets(text, chunks)
    # nothing but whitespace is lost between chunks
    covered = sorted((c.start, c.end) for c in chunks)
    for (_, end), (start, _) in itertools.pairwise(covered):
        assert end <= start
