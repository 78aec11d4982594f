"""The editor's three-way merge: a peer's change lands on the text the user is typing."""

from __future__ import annotations

from core.content.textmerge import Edit, apply, map_position, rebase, utf16_offset


def test_remote_and_local_edits_in_different_places_both_survive() -> None:
    base = "Coffee notes.\nBeans from Ethiopia.\n"
    local = "Coffee notes (mine).\nBeans from Ethiopia.\n"
    remote = "Coffee notes.\nBeans from Kenya.\n"
    assert apply(local, rebase(base, local, remote)) == "Coffee notes (mine).\nBeans from Kenya.\n"


def test_a_remote_delete_never_removes_text_the_user_inserted() -> None:
    base = "one two three"
    local = "one two and a half three"
    remote = "one three"  # the peer deleted "two " around the user's insert
    merged = apply(local, rebase(base, local, remote))
    assert "and a half" in merged and merged.startswith("one ")


def test_no_remote_change_is_no_edit() -> None:
    assert rebase("a", "ab", "a") == []


def test_positions_move_with_the_edits() -> None:
    edits = [Edit(0, 0, "xx"), Edit(5, 7, "")]
    assert map_position(3, edits) == 5
    assert map_position(9, edits) == 9
    assert utf16_offset("😀a", 2) == 3  # the emoji is two UTF-16 code units
