"""The middle column's lists on the one rows model (``desktop.gui.rows_model``): notes (title,
first line, date; grouped by day/week or by initial; sortable), tags with counts, and the
items carrying a tag — with their delegates."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop.gui.rows_model import ROW_ROLE, PagedRowsModel, RowsModel

if TYPE_CHECKING:
    from core.library import Library
from desktop.gui.theme import icons
from desktop.gui.theme.paint import color, row_background, scaled_font
from desktop.gui.theme.tokens import (
    ROW_GROUP_HEADER,
    ROW_NOTE,
    SPACE_M,
    SPACE_S,
    SPACE_XS,
    TYPE_CAPTION,
    TYPE_SMALL,
    TYPE_TITLE,
)

ID_ROLE = Qt.ItemDataRole.UserRole
KIND_ROLE = Qt.ItemDataRole.UserRole + 1
GROUP_ROLE = Qt.ItemDataRole.UserRole + 2

SORTS = {"updated": "Last changed", "created": "Created", "title": "Title"}

_MARKUP = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+(?:\[[ xX]\]\s+)?|>\s*|\d+[.)]\s+)")
_WIKILINK = re.compile(r"!?\[\[([^\]|]+)(?:\|([^\]]+))?\]\]")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)")
_CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"


@dataclass(frozen=True)
class NoteListRow:
    id: str
    kind: str
    title: str
    preview: str  # the first line of text after the title, without Markdown marks
    created_at: float
    updated_at: float
    group: str  # the header this row sits under ("Today", "This week", "ㄱ", …)


_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_TABLE = re.compile(r"^\s*\|")


def first_line(head: str, title: str) -> str:
    """The first line of body text, as plain text: not the front matter, not a heading or a
    table (a heading is used only when the note has nothing else)."""
    lines = head.splitlines()
    if lines and lines[0].strip() == "---":  # YAML front matter
        end = next((i for i, ln in enumerate(lines[1:], 1) if ln.strip() in ("---", "...")), 0)
        lines = lines[end + 1 :] if end else []
    body = [ln for ln in lines if not _HEADING.match(ln) and not _TABLE.match(ln)]
    headings = [ln for ln in lines if _HEADING.match(ln)]
    for raw in body + headings:
        line = _MARKUP.sub("", raw).strip()
        if not line or line.startswith("---"):
            continue
        line = _WIKILINK.sub(lambda m: m.group(2) or m.group(1), line)
        line = _EMPHASIS.sub("", _LINK.sub(r"\1", line)).strip()
        if line and line != title:
            return line
    return ""


def day_group(stamp: float, today: date | None = None) -> str:
    """Today · Yesterday · This week · Last week · "March 2026" (older)."""
    today = today or date.today()
    day = datetime.fromtimestamp(stamp).date()
    age = (today - day).days
    if age <= 0:
        return "Today"
    if age == 1:
        return "Yesterday"
    monday = today.toordinal() - today.weekday()
    if day.toordinal() >= monday:
        return "This week"
    if day.toordinal() >= monday - 7:
        return "Last week"
    return day.strftime("%B %Y")


def initial_group(title: str) -> str:
    """A title's first letter; a Hangul syllable files under its initial consonant."""
    first = (title.strip() or "#")[0]
    if "가" <= first <= "힣":
        return _CHOSEONG[(ord(first) - 0xAC00) // 588]
    return first.upper() if first.isalpha() else "#"


def note_rows(summaries: list[Any], order: str) -> list[NoteListRow]:
    """``core`` note summaries → list rows (runs on the db worker)."""
    today = date.today()
    out = []
    for s in summaries:
        stamp = s.created_at if order == "created" else s.updated_at
        group = initial_group(s.title) if order == "title" else day_group(stamp, today)
        out.append(
            NoteListRow(
                s.id,
                s.kind,
                s.title,
                first_line(s.head, s.title),
                s.created_at,
                s.updated_at,
                group,
            )
        )
    return out


def short_date(stamp: float, now: float | None = None) -> str:
    """10:42 today, "Mon" this week, "3 Mar" this year, else "2025-03-03"."""
    moment = datetime.fromtimestamp(stamp)
    current = datetime.fromtimestamp(now if now is not None else time.time())
    if moment.date() == current.date():
        return moment.strftime("%H:%M")
    if 0 < (current.date() - moment.date()).days < 7:
        return moment.strftime("%a")
    if moment.year == current.year:
        return f"{moment.day} {moment.strftime('%b')}"
    return moment.strftime("%Y-%m-%d")


class NoteListModel(PagedRowsModel):
    """Notes a page at a time, in the chosen order (``set_order``)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            {
                Qt.ItemDataRole.DisplayRole: lambda r: r.title or "Untitled",
                Qt.ItemDataRole.AccessibleTextRole: _accessible,
                Qt.ItemDataRole.ToolTipRole: _tooltip,
                ID_ROLE: lambda r: r.id,
                KIND_ROLE: lambda r: r.kind,
                GROUP_ROLE: lambda r: r.group,
            },
            parent,
            key=lambda r: r.id,
        )
        self.order = "updated"

    def update_title(self, item_id: str, title: str) -> None:
        position = self.row_of(item_id)
        if position >= 0:
            old = self.rows[position]
            now = time.time()
            group = initial_group(title) if self.order == "title" else old.group
            if self.order == "updated":
                group = day_group(now)
            self.replace_row(
                position,
                NoteListRow(old.id, old.kind, title, old.preview, old.created_at, now, group),
            )


def _accessible(row: NoteListRow) -> str:
    text = row.title or "Untitled"
    if row.preview:
        text += f". {row.preview}"
    return f"{text}. {short_date(row.updated_at)}"


def _tooltip(row: Any) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.updated_at))
    return f"{row.title}\nChanged {stamp}"


def item_rows_model(parent: QObject | None = None) -> RowsModel:
    """Items (``core`` item rows: id, kind, title, updated_at), e.g. those with a tag."""
    return RowsModel(
        {
            Qt.ItemDataRole.DisplayRole: lambda r: r.title or "Untitled",
            Qt.ItemDataRole.AccessibleTextRole: lambda r: f"{r.kind}: {r.title or 'Untitled'}",
            Qt.ItemDataRole.ToolTipRole: _tooltip,
            Qt.ItemDataRole.DecorationRole: lambda r: icons.icon(
                "image" if r.kind == "photo" else "file-text", "muted"
            ),
            ID_ROLE: lambda r: r.id,
            KIND_ROLE: lambda r: r.kind,
        },
        parent,
        key=lambda r: r.id,
    )


COUNT_ROLE = Qt.ItemDataRole.UserRole + 3


def tag_rows_model(parent: QObject | None = None) -> RowsModel:
    """(tag, count) rows."""
    return RowsModel(
        {
            Qt.ItemDataRole.DisplayRole: lambda r: f"#{r[0]}",
            Qt.ItemDataRole.AccessibleTextRole: lambda r: f"Tag {r[0]}, {r[1]} items",
            ID_ROLE: lambda r: r[0],
            COUNT_ROLE: lambda r: r[1],
        },
        parent,
        key=lambda r: r[0],
    )


class NoteDelegate(QStyledItemDelegate):
    """Title, date and first line per note; a group header above the first note of a group."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._font_cache: dict[str, tuple[QFont, QFont, QFont, QFont, QFontMetrics]] = {}

    def _has_header(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        row = index.row()
        if row == 0:
            return True
        rows = getattr(index.model(), "rows", None)
        if rows is not None and row < len(rows):  # the rows model: no Qt round trips
            return bool(rows[row - 1].group != rows[row].group)
        model = index.model()
        return bool(model.index(row - 1, 0).data(GROUP_ROLE) != index.data(GROUP_ROLE))

    def _fonts(self, base: QFont) -> tuple[QFont, QFont, QFont, QFont, QFontMetrics]:
        """(header, date, title, preview) fonts, made once per base font (not per row)."""
        key = base.key()
        cached = self._font_cache.get(key)
        if cached is None:
            title = scaled_font(base, TYPE_TITLE, QFont.Weight.DemiBold)
            cached = (
                scaled_font(base, TYPE_CAPTION, QFont.Weight.Bold),
                scaled_font(base, TYPE_SMALL),
                title,
                scaled_font(base, TYPE_SMALL + 1),
                QFontMetrics(title),
            )
            self._font_cache[key] = cached
        return cached

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(1, ROW_NOTE + (ROW_GROUP_HEADER if self._has_header(index) else 0))

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        row: NoteListRow = index.data(ROW_ROLE)
        rect = QRect(option.rect)
        painter.save()
        header_font, date_font, title_font, preview_font, title_metrics = self._fonts(option.font)
        if self._has_header(index):
            header = QRect(
                rect.left() + SPACE_M, rect.top(), rect.width() - 2 * SPACE_M, ROW_GROUP_HEADER
            )
            painter.setFont(header_font)
            painter.setPen(color("muted"))
            painter.drawText(
                header,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                row.group.upper() if row.group.isascii() else row.group,
            )
            rect.setTop(rect.top() + ROW_GROUP_HEADER)
        cell = rect.adjusted(SPACE_XS, 2, -SPACE_XS, -2)
        row_background(painter, option, cell)
        inner = cell.adjusted(SPACE_S + 2, SPACE_S - 1, -(SPACE_S + 2), -SPACE_S)
        stamp = short_date(row.created_at if self._order(index) == "created" else row.updated_at)
        painter.setFont(date_font)
        metrics = painter.fontMetrics()
        date_w = metrics.horizontalAdvance(stamp) + SPACE_S
        painter.setPen(color("muted"))
        top_line = QRect(inner.left(), inner.top(), inner.width(), 20)
        painter.drawText(
            top_line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, stamp
        )
        painter.setFont(title_font)
        painter.setPen(color("text"))
        title_rect = top_line.adjusted(0, 0, -date_w, 0)
        title = title_metrics.elidedText(
            row.title or "Untitled", Qt.TextElideMode.ElideRight, title_rect.width()
        )
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )
        painter.setFont(preview_font)
        painter.setPen(color("muted"))
        second = QRect(inner.left(), top_line.bottom() + 3, inner.width(), 18)
        preview = painter.fontMetrics().elidedText(
            row.preview or "No text yet", Qt.TextElideMode.ElideRight, second.width()
        )
        painter.drawText(
            second, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, preview
        )
        painter.restore()

    @staticmethod
    def _order(index: QModelIndex | QPersistentModelIndex) -> str:
        return str(getattr(index.model(), "order", "updated"))


class CountDelegate(QStyledItemDelegate):
    """Icon · label · count on the right: the sidebar and the tag list."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        row_height: int = 34,
        icon_role: int = int(Qt.ItemDataRole.DecorationRole),
        count_role: int = COUNT_ROLE,
    ) -> None:
        super().__init__(parent)
        self.row_height = row_height
        self.icon_role = icon_role
        self.count_role = count_role

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(1, self.row_height)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        cell = option.rect.adjusted(SPACE_S, 1, -SPACE_S, -1)
        row_background(painter, option, cell)
        painter.save()
        inner = cell.adjusted(SPACE_S + 2, 0, -(SPACE_S + 2), 0)
        left = inner.left()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        icon = index.data(self.icon_role)
        if icon is not None and hasattr(icon, "paint"):
            side = 18
            icon.paint(painter, QRect(left, inner.center().y() - side // 2 + 1, side, side))
            left += side + SPACE_S + 2
        count = index.data(self.count_role)
        count_text = "" if count is None else f"{count:,}"
        painter.setFont(scaled_font(option.font, TYPE_SMALL))
        count_w = painter.fontMetrics().horizontalAdvance(count_text) + SPACE_XS
        painter.setPen(color("accent" if selected else "muted"))
        painter.drawText(
            inner, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, count_text
        )
        font = QFont(option.font)
        if selected:
            font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(font)
        painter.setPen(color("text"))
        label_rect = QRect(left, inner.top(), inner.right() - left - count_w, inner.height())
        label = painter.fontMetrics().elidedText(
            str(index.data(Qt.ItemDataRole.DisplayRole) or ""),
            Qt.TextElideMode.ElideRight,
            label_rect.width(),
        )
        painter.drawText(
            label_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label
        )
        painter.restore()


def note_source(
    library: Library, order_of: Callable[[], str]
) -> Callable[[int, int], list[NoteListRow]]:
    """The paged fetch of the note list (reads the order when each page is asked for)."""

    def fetch(offset: int, limit: int) -> list[NoteListRow]:
        order = order_of()
        return note_rows(library.notes.summaries(order, limit=limit, offset=offset), order)

    return fetch
