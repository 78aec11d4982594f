"""The one style sheet of the app, generated from the tokens.

Widgets opt into variants with dynamic properties instead of their own style sheets:
``variant`` = ``primary`` | ``ghost`` | ``chip`` on buttons, ``role`` = ``display`` |
``heading`` | ``title`` | ``muted`` | ``caption`` on labels, ``card`` / ``bubble`` on frames.
Object names mark the big areas (``Sidebar``, ``TitleBar``, ``Palette``)."""

from __future__ import annotations

from desktop.gui.theme.tokens import (
    RADIUS_L,
    RADIUS_M,
    RADIUS_S,
    SPACE_M,
    SPACE_S,
    SPACE_XL,
    SPACE_XS,
    TYPE_CAPTION,
    TYPE_DISPLAY,
    TYPE_HEADING,
    TYPE_SMALL,
    TYPE_TITLE,
    Colors,
)


def stylesheet(c: Colors, arrow: str = "") -> str:
    """The app's style sheet; ``arrow`` is the path of the tinted combo-box arrow SVG."""
    arrow_rule = f"image: url({arrow}); width: 14px; height: 14px;" if arrow else ""
    return f"""
QMainWindow, QDialog {{ background: {c.window}; color: {c.text}; }}
QToolTip {{ background: {c.raised}; color: {c.text}; border: 1px solid {c.border_strong};
    border-radius: {RADIUS_S}px; padding: {SPACE_XS}px {SPACE_S}px; }}

/* labels by role */
QLabel[role="display"] {{ font-size: {TYPE_DISPLAY}px; font-weight: 700; }}
QLabel[role="heading"] {{ font-size: {TYPE_HEADING}px; font-weight: 700; }}
QLabel[role="title"] {{ font-size: {TYPE_TITLE}px; font-weight: 600; }}
QLabel[role="muted"] {{ color: {c.muted}; }}
QLabel[role="caption"] {{ color: {c.muted}; font-size: {TYPE_CAPTION}px; }}
QLabel[role="section"] {{ color: {c.muted}; font-size: {TYPE_CAPTION}px; font-weight: 700;
    letter-spacing: 0.5px; }}

/* title bar (toolbar) */
QToolBar#TitleBar {{ background: {c.window}; border: none;
    border-bottom: 1px solid {c.border}; padding: {SPACE_XS}px {SPACE_S}px; spacing: {SPACE_S}px; }}
QPushButton#SearchField {{ background: {c.surface}; color: {c.faint};
    border: 1px solid {c.border}; border-radius: {RADIUS_M}px; text-align: left;
    padding: 5px {SPACE_M}px; min-width: 280px; }}
QPushButton#SearchField:hover {{ border-color: {c.border_strong}; }}

/* buttons */
QPushButton, QToolButton {{ background: {c.surface}; color: {c.text};
    border: 1px solid {c.border}; border-radius: {RADIUS_M}px; padding: 5px {SPACE_M}px; }}
QPushButton:hover, QToolButton:hover {{ background: {c.hover}; }}
QPushButton:pressed, QToolButton:pressed {{ background: {c.accent_soft}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {c.faint}; background: {c.window}; }}
QPushButton[variant="primary"] {{ background: {c.accent}; color: {c.on_accent};
    border: 1px solid {c.accent}; font-weight: 600; }}
QPushButton[variant="primary"]:hover {{ background: {c.accent}; border-color: {c.text}; }}
QPushButton[variant="primary"]:disabled {{ background: {c.border}; color: {c.muted};
    border-color: {c.border}; }}
QPushButton[variant="ghost"], QToolButton[variant="ghost"] {{ background: transparent;
    border: 1px solid transparent; }}
QPushButton[variant="ghost"]:hover, QToolButton[variant="ghost"]:hover {{
    background: {c.hover}; }}
QToolButton[variant="chip"], QLabel[variant="chip"] {{ background: {c.accent_soft};
    color: {c.text}; border: 1px solid transparent; border-radius: 10px;
    padding: 2px {SPACE_S}px; font-size: {TYPE_SMALL}px; }}
QToolButton[variant="chip"]:hover {{ border-color: {c.accent}; }}
QPushButton:focus, QToolButton:focus {{ border: 2px solid {c.accent}; }}
QPushButton[variant="primary"]:focus {{ border: 2px solid {c.text}; }}

/* inputs */
QLineEdit, QComboBox, QSpinBox {{ background: {c.surface}; color: {c.text};
    border: 1px solid {c.border_strong}; border-radius: {RADIUS_M}px; padding: 5px {SPACE_S}px;
    selection-background-color: {c.accent}; selection-color: {c.on_accent}; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus {{ border: 2px solid {c.accent};
    padding: 4px 7px; }}
QComboBox {{ padding-right: 24px; }}
QComboBox::drop-down {{ border: none; width: 22px; subcontrol-origin: padding;
    subcontrol-position: center right; }}
QComboBox::down-arrow {{ {arrow_rule} }}
QComboBox QAbstractItemView {{ background: {c.raised}; border: 1px solid {c.border_strong};
    selection-background-color: {c.accent_soft}; selection-color: {c.text}; }}
QPlainTextEdit, QTextEdit, QTextBrowser {{ background: {c.surface}; color: {c.text};
    border: none; selection-background-color: {c.accent}; selection-color: {c.on_accent}; }}
QCheckBox:focus, QRadioButton:focus {{ color: {c.accent}; }}

/* lists */
QAbstractItemView {{ background: {c.window}; color: {c.text}; border: none;
    outline: none; selection-background-color: {c.accent_soft}; selection-color: {c.text}; }}
QListView::item, QTreeView::item {{ border-radius: {RADIUS_M}px; padding: {SPACE_XS}px; }}
QListView::item:hover, QTreeView::item:hover {{ background: {c.hover}; }}
QListView::item:selected, QTreeView::item:selected {{ background: {c.accent_soft};
    color: {c.text}; }}
QAbstractItemView:focus {{ border: none; }}
QHeaderView::section {{ background: {c.window}; color: {c.muted}; border: none;
    border-bottom: 1px solid {c.border}; padding: {SPACE_XS}px {SPACE_S}px; }}

/* sidebar */
QWidget#Sidebar, QListView#Sidebar {{ background: {c.sidebar}; }}

/* the palette */
QFrame#Palette {{ background: {c.raised}; border: 1px solid {c.border_strong};
    border-radius: {RADIUS_L}px; }}
QFrame#Palette QListView {{ background: {c.raised}; }}

/* cards and bubbles */
QFrame[card="true"] {{ background: {c.surface}; border: 1px solid {c.border};
    border-radius: {RADIUS_L}px; }}
QFrame[card="true"]:hover {{ border-color: {c.border_strong}; }}
QFrame[card="true"]:focus {{ border: 2px solid {c.accent}; }}
QFrame[bubble="saem"] {{ background: {c.raised}; border: 1px solid {c.border};
    border-radius: {RADIUS_L}px; }}
QFrame[bubble="user"] {{ background: {c.user_bubble}; border-radius: {RADIUS_L}px; }}
QFrame[bubble="user"] QLabel {{ color: {c.on_user_bubble}; }}
QFrame[bubble="instant"], QFrame#instantCard {{ background: {c.accent_soft};
    border: 1px solid {c.accent_soft}; border-radius: {RADIUS_L}px; }}
QFrame[empty="true"] {{ background: transparent; }}

/* splitters, scroll bars, status bar, menus, progress */
QSplitter::handle {{ background: {c.border}; }}
QSplitter::handle:horizontal {{ width: 1px; }}
QSplitter::handle:vertical {{ height: 1px; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 2px; }}
QScrollBar::handle {{ background: {c.border_strong}; border-radius: 3px; min-height: 24px;
    min-width: 24px; }}
QScrollBar::handle:hover {{ background: {c.muted}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QStatusBar {{ background: {c.window}; color: {c.muted}; border-top: 1px solid {c.border}; }}
QStatusBar QLabel {{ color: {c.muted}; font-size: {TYPE_SMALL}px; }}
QStatusBar::item {{ border: none; }}
QMenuBar {{ background: {c.window}; color: {c.text}; }}
QMenuBar::item:selected {{ background: {c.hover}; border-radius: {RADIUS_S}px; }}
QMenu {{ background: {c.raised}; color: {c.text}; border: 1px solid {c.border_strong};
    border-radius: {RADIUS_M}px; padding: {SPACE_XS}px; }}
QMenu::item {{ padding: 5px {SPACE_XL}px 5px {SPACE_M}px; border-radius: {RADIUS_S}px; }}
QMenu::item:selected {{ background: {c.accent_soft}; color: {c.text}; }}
QMenu::separator {{ height: 1px; background: {c.border}; margin: {SPACE_XS}px {SPACE_S}px; }}
QProgressBar {{ background: {c.border}; border: none; border-radius: 3px; max-height: 6px;
    min-height: 6px; }}
QProgressBar::chunk {{ background: {c.accent}; border-radius: 3px; }}
QTabWidget::pane {{ border: 1px solid {c.border}; border-radius: {RADIUS_M}px; }}
QTabBar::tab {{ padding: 5px {SPACE_M}px; color: {c.muted}; border: none; }}
QTabBar::tab:selected {{ color: {c.text}; border-bottom: 2px solid {c.accent}; }}
QTabBar::tab:focus {{ color: {c.accent}; }}
"""
