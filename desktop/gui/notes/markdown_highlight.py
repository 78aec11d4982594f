"""Live Markdown styling in the editor: headings, emphasis, code, links, tags."""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^#{1,6}[ \t].*$"), "heading"),
    (re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"), "bold"),
    (re.compile(r"(?<![*\w])\*[^*\n]+\*(?!\*)|(?<![_\w])_[^_\n]+_(?!_)"), "italic"),
    (re.compile(r"`[^`\n]+`"), "code"),
    (re.compile(r"!?\[\[[^\[\]\n]+\]\]|!?\[[^\]\n]*\]\([^)\n]+\)"), "link"),
    (re.compile(r"(?:(?<=\s)|^)#[^\s#\[\](){}<>,.;:!?'\"`]+"), "tag"),
    (re.compile(r"^\s*(?:[-*+]|\d+[.)])\s"), "list"),
    (re.compile(r"^>.*$"), "quote"),
]

_IN_FENCE = 1


def _formats(dark: bool) -> dict[str, QTextCharFormat]:
    def fmt(
        color: str | None = None,
        *,
        bold: bool = False,
        italic: bool = False,
        mono: bool = False,
        scale: float = 1.0,
    ) -> QTextCharFormat:
        f = QTextCharFormat()
        if color:
            f.setForeground(QColor(color))
        if bold:
            f.setFontWeight(QFont.Weight.Bold)
        if italic:
            f.setFontItalic(True)
        if mono:
            f.setFontFamilies(["DejaVu Sans Mono", "NanumGothicCoding", "monospace"])
        if scale != 1.0:
            f.setProperty(QTextCharFormat.Property.FontSizeAdjustment, 1)
        return f

    accent = "#7fb4ff" if dark else "#1f5fbf"
    muted = "#9aa0a6" if dark else "#5f6368"
    return {
        "heading": fmt(accent, bold=True, scale=1.2),
        "bold": fmt(bold=True),
        "italic": fmt(italic=True),
        "code": fmt("#e8a87c" if dark else "#a0421c", mono=True),
        "fence": fmt("#e8a87c" if dark else "#a0421c", mono=True),
        "link": fmt("#8fd18f" if dark else "#1a7f37"),
        "tag": fmt("#d7a6ff" if dark else "#7b2fbf"),
        "list": fmt(muted, bold=True),
        "quote": fmt(muted, italic=True),
    }


class MarkdownHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, *, dark: bool = False) -> None:
        super().__init__(document)
        self._formats = _formats(dark)

    def set_dark(self, dark: bool) -> None:
        self._formats = _formats(dark)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        fence = text.lstrip().startswith(("```", "~~~"))
        inside = self.previousBlockState() == _IN_FENCE
        if inside or fence:
            self.setFormat(0, len(text), self._formats["fence"])
            closing = inside and fence
            self.setCurrentBlockState(-1 if closing or (fence and inside) else _IN_FENCE)
            if fence and not inside:
                self.setCurrentBlockState(_IN_FENCE)
            return
        self.setCurrentBlockState(-1)
        for pattern, name in _RULES:
            for match in pattern.finditer(text):
                start, end = match.span()
                self.setFormat(
                    _u16(text, start), _u16(text, end) - _u16(text, start), self._formats[name]
                )


def _u16(text: str, pos: int) -> int:
    return pos + sum(1 for ch in text[:pos] if ord(ch) > 0xFFFF)
