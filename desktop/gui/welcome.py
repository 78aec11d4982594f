"""The first-run welcome: what the demo library is, and how to bring one's own notes/photos.

Shown in the detail pane (not a modal dialog) until the user picks an action or closes it;
``welcome/done`` in the settings remembers that."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.gui.theme import icons
from desktop.gui.theme.tokens import SPACE_L, SPACE_M, SPACE_S, SPACE_XXL

TIPS = [
    (
        "search",
        "Ctrl+K",
        "searches everything as you type, in Korean or English — words, "
        "meanings and the text inside photos.",
    ),
    ("sparkles", "Ask", "answers from your own notes and photos, with the sources it used."),
    ("monitor-smartphone", "Devices", "syncs with your other computers directly, no cloud."),
]


class Welcome(QWidget):
    import_notes = Signal()
    import_photos = Signal()
    dismissed = Signal()

    def __init__(self, notes: int = 0, photos: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Welcome")
        card = QFrame(self)
        card.setProperty("card", True)
        card.setMaximumWidth(560)
        heading = QLabel("Welcome to Saem", card)
        heading.setProperty("role", "display")
        self.intro = QLabel(card)
        self.intro.setWordWrap(True)
        self.set_counts(notes, photos)
        tips = QVBoxLayout()
        tips.setSpacing(SPACE_S)
        self.tip_icons: list[tuple[QLabel, str]] = []
        for icon_name, name, text in TIPS:
            row = QHBoxLayout()
            row.setSpacing(SPACE_M)
            glyph = QLabel(card)
            self.tip_icons.append((glyph, icon_name))
            label = QLabel(f"<b>{name}</b> {text}", card)
            label.setWordWrap(True)
            row.addWidget(glyph, 0, Qt.AlignmentFlag.AlignTop)
            row.addWidget(label, 1)
            tips.addLayout(row)
        self.import_notes_button = QPushButton("Import my notes…", card)
        self.import_notes_button.setProperty("variant", "primary")
        self.import_notes_button.clicked.connect(self.import_notes)
        self.import_photos_button = QPushButton("Import my photos…", card)
        self.import_photos_button.clicked.connect(self.import_photos)
        self.explore_button = QPushButton("Explore the demo", card)
        self.explore_button.setProperty("variant", "ghost")
        self.explore_button.clicked.connect(self.dismissed)
        buttons = QHBoxLayout()
        buttons.setSpacing(SPACE_S)
        buttons.addWidget(self.import_notes_button)
        buttons.addWidget(self.import_photos_button)
        buttons.addStretch(1)
        explore = QHBoxLayout()
        explore.addWidget(self.explore_button)
        explore.addStretch(1)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(SPACE_XXL, SPACE_XXL, SPACE_XXL, SPACE_XXL)
        inner.setSpacing(SPACE_L)
        inner.addWidget(heading)
        inner.addWidget(self.intro)
        inner.addLayout(tips)
        note = QLabel(
            "Your imports sit beside the demo; you can delete the demo items "
            "whenever you like. Nothing leaves this computer.",
            card,
        )
        note.setProperty("role", "caption")
        note.setWordWrap(True)
        inner.addWidget(note)
        inner.addLayout(buttons)
        inner.addLayout(explore)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card, 12)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.setFocusProxy(self.import_notes_button)
        self.refresh_icons()

    def set_counts(self, notes: int, photos: int) -> None:
        self.intro.setText(
            "This is a <b>demo library</b> so you can try everything at once: "
            f"{notes:,} notes and {photos:,} photos in Korean and English — café visits, a "
            "kimchi fried rice recipe, a space reading list, and a receipt and a station sign "
            "whose text Saem reads. Search it, open a photo, ask a question."
        )

    def refresh_icons(self) -> None:
        for glyph, name in self.tip_icons:
            glyph.setPixmap(icons.pixmap(name, 20, "accent"))
