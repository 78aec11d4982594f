"""The one text diff: edits rebuild the new text, in code points and in a real pycrdt Text."""

from __future__ import annotations

import itertools
import random

import pytest
from pycrdt import Doc, Text

from sync.text_diff import EDITOR_MAX_SPAN, Edit, apply_text_edits, diff, span_edit

ALPHABET = "ab c\n가나다é😀"


def _apply(text: str, edits: list[Edit]) -> str:
    out, pos = [], 0
    for edit in edits:
        out += [text[pos : edit.start], edit.text]
        pos = edit.end
    return "".join([*out, text[pos:]])


def _mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(chars))
        if rng.random() < 0.5 and chars:
            del chars[at : at + rng.randint(1, 5)]
        else:
            chars[at:at] = rng.choices(ALPHABET, k=rng.randint(1, 6))
    return "".join(chars)


@pytest.mark.parametrize("seed", range(40))
def test_edits_rebuild_the_new_text_in_code_points_and_in_crdt_text(seed: int) -> None:
    rng = random.Random(seed)
    old = "".join(rng.choices(ALPHABET, k=rng.randint(0, 60)))
    new = _mutate(rng, old)
    edits = diff(old, new)
    assert _apply(old, edits) == new
    assert all(a.end <= b.start for a, b in itertools.pairwise(edits))
    doc = Doc()
    doc["body"] = body = Text(old)
    with doc.transaction():
        apply_text_edits(body, old, edits)
    assert str(body) == new


def test_a_change_in_the_middle_is_one_small_edit() -> None:
    old = "x" * 1000 + "coffee" + "y" * 1000
    assert diff(old, old.replace("coffee", "milk")) == [Edit(1000, 1006, "milk")]
    assert diff(old, old) == [] and span_edit(old, old) is None


def test_above_the_cap_the_middle_is_one_replace() -> None:
    rng = random.Random(7)
    old = "".join(rng.choices("abc", k=EDITOR_MAX_SPAN))
    new = "".join(rng.choices("abc", k=EDITOR_MAX_SPAN))
    capped = diff(old, new, max_span=EDITOR_MAX_SPAN)
    assert len(capped) == 1 and _apply(old, capped) == new
    assert len(diff(old[:500], new[:500])) > 1  # under the cap: the matcher keeps what matches


def test_span_edit_is_the_trimmed_middle() -> None:
    assert span_edit("hello world", "hello brave world") == Edit(6, 6, "brave ")
    assert span_edit("aaa", "aa") == Edit(2, 3, "")
