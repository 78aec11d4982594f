"""Markdown-aware chunking with exact source offsets.

A note is cut into *blocks* (headings, fenced code, list runs, tables, paragraphs), and blocks
are packed into chunks of at most ``max_chars`` characters. A heading starts a new chunk, so a
chunk belongs to one section, and carries its heading path ("Trip > Day 2"). Code blocks and
lists stay whole when they fit; a paragraph that is too long is split at sentence ends
(``.!?。`` and friends, which Korean uses too) and, failing that, at a space or — for text
without spaces — at the character budget. Every chunk's text is exactly
``source[start:end]``, so a hit can be highlighted in the note.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from core.content.markdown import split_front_matter

DEFAULT_MAX_CHARS = 1500
MIN_CHARS = 200  # a section smaller than this is merged into the next one

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE_OPEN = re.compile(r"^[ \t]{0,3}(```+|~~~+)")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")
_TABLE_ROW = re.compile(r"^[ \t]*\|")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？…])[\"'”’)\]]*(?=\s|$)|(?<=[。！？])")


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int
    end: int
    heading: str = ""


@dataclass
class _Block:
    start: int
    end: int
    kind: str  # heading | code | list | table | para
    heading_path: str
    level: int = 0


def _lines(text: str, offset: int) -> list[tuple[int, int, str]]:
    """(start, end-without-newline, line) for each line of ``text`` from ``offset``."""
    out = []
    pos = offset
    for line in text[offset:].splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        out.append((pos, pos + len(stripped), stripped))
        pos += len(line)
    return out


def _blocks(source: str, offset: int) -> list[_Block]:
    lines = _lines(source, offset)
    blocks: list[_Block] = []
    path: list[tuple[int, str]] = []
    i = 0

    def heading_path() -> str:
        return " > ".join(title for _, title in path)

    while i < len(lines):
        start, end, line = lines[i]
        if not line.strip():
            i += 1
            continue
        match = _HEADING.match(line)
        if match:
            level = len(match.group(1))
            path = [p for p in path if p[0] < level] + [(level, match.group(2).strip())]
            blocks.append(_Block(start, end, "heading", heading_path(), level))
            i += 1
            continue
        fence = _FENCE_OPEN.match(line)
        if fence:
            marker = fence.group(1)
            j = i + 1
            while j < len(lines) and not lines[j][2].lstrip().startswith(marker):
                j += 1
            last = min(j, len(lines) - 1)
            blocks.append(_Block(start, lines[last][1], "code", heading_path()))
            i = last + 1
            continue
        if _LIST_ITEM.match(line) or _TABLE_ROW.match(line):
            kind = "list" if _LIST_ITEM.match(line) else "table"
            j = i + 1
            while j < len(lines):
                nxt = lines[j][2]
                if not nxt.strip():
                    # a blank line inside a list continues it when the next line is an item
                    if j + 1 < len(lines) and kind == "list" and _LIST_ITEM.match(lines[j + 1][2]):
                        j += 1
                        continue
                    break
                if kind == "table" and not _TABLE_ROW.match(nxt):
                    break
                if kind == "list" and (_HEADING.match(nxt) or _FENCE_OPEN.match(nxt)):
                    break
                j += 1
            blocks.append(_Block(start, lines[j - 1][1], kind, heading_path()))
            i = j
            continue
        j = i + 1
        while j < len(lines):
            nxt = lines[j][2]
            if not nxt.strip() or _HEADING.match(nxt) or _FENCE_OPEN.match(nxt):
                break
            if _LIST_ITEM.match(nxt) and not _LIST_ITEM.match(line):
                break
            j += 1
        blocks.append(_Block(start, lines[j - 1][1], "para", heading_path()))
        i = j
    return blocks


def _split_long(source: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split ``source[start:end]`` into spans of at most ``max_chars`` at natural breaks."""
    spans: list[tuple[int, int]] = []
    text = source[start:end]
    cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
    pos = 0
    while len(text) - pos > max_chars:
        limit = pos + max_chars
        # the last sentence end in [pos + max_chars // 3, limit] (bisect: a 5 MB paragraph
        # has ~100k sentence ends, scanning them all per cut was quadratic)
        last = bisect.bisect_right(cuts, limit) - 1
        if last >= 0 and cuts[last] >= pos + max_chars // 3:
            cut = cuts[last]
        else:
            newline = text.rfind("\n", pos + max_chars // 3, limit)
            space = text.rfind(" ", pos + max_chars // 3, limit)
            cut = newline + 1 if newline > 0 else (space + 1 if space > 0 else limit)
        spans.append((start + pos, start + cut))
        pos = cut
    spans.append((start + pos, end))
    return spans


def _trim(source: str, start: int, end: int) -> tuple[int, int]:
    while start < end and source[start].isspace():
        start += 1
    while end > start and source[end - 1].isspace():
        end -= 1
    return start, end


def chunk_markdown(source: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Chunks of a Markdown note body (front matter skipped); offsets index ``source``."""
    if max_chars < 50:
        raise ValueError("max_chars must be at least 50")
    _, content, _ = split_front_matter(source)
    offset = len(source) - len(content)
    blocks = _blocks(source, offset)
    chunks: list[Chunk] = []
    cur_start = cur_end = -1
    cur_heading = ""

    def flush() -> None:
        nonlocal cur_start, cur_end
        if cur_start >= 0:
            s, e = _trim(source, cur_start, cur_end)
            if s < e:
                chunks.append(Chunk(source[s:e], s, e, cur_heading))
        cur_start = cur_end = -1

    for block in blocks:
        size = block.end - block.start
        if block.kind == "heading" and cur_start >= 0 and cur_end - cur_start >= MIN_CHARS:
            flush()
        if cur_start >= 0 and block.end - cur_start > max_chars:
            flush()
        if size > max_chars:
            flush()
            limit = max_chars * 2 if block.kind in ("code", "list", "table") else max_chars
            if size <= limit:
                chunks.append(
                    Chunk(
                        source[block.start : block.end], block.start, block.end, block.heading_path
                    )
                )
                continue
            for s, e in _split_long(source, block.start, block.end, max_chars):
                s, e = _trim(source, s, e)
                if s < e:
                    chunks.append(Chunk(source[s:e], s, e, block.heading_path))
            continue
        if cur_start < 0:
            cur_start = block.start
            cur_heading = block.heading_path
        cur_end = block.end
    flush()
    return chunks


def chunk_plain(text: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Chunks of plain text (OCR output, captions): split only by length at natural breaks."""
    start, end = _trim(text, 0, len(text))
    if start >= end:
        return []
    out = []
    for s, e in _split_long(text, start, end, max_chars):
        s, e = _trim(text, s, e)
        if s < e:
            out.append(Chunk(text[s:e], s, e, ""))
    return out
