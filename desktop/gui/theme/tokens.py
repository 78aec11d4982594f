"""Design tokens: the one place the app's spacing, radii, type scale and colours live.

Everything visual (the QSS in ``qss.py``, the ``QPalette`` in ``palette.py``, the painted
delegates and icons) reads these values; no widget picks its own colour or size. Two colour
schemes share one set of names, so a widget written against ``colors().muted`` looks right in
both. ``contrast_ratio`` is the WCAG 2.x formula; ``tests/desktop/gui/theme`` checks every text
pair below in both schemes (≥ 4.5:1 for text, ≥ 3:1 for focus rings and large text), and
``python -m desktop.gui.theme.contrast`` prints the table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

Scheme = Literal["light", "dark"]

# -- spacing (px): a 4-px grid ----------------------------------------------------------------
SPACE_XXS = 2
SPACE_XS = 4
SPACE_S = 8
SPACE_M = 12
SPACE_L = 16
SPACE_XL = 24
SPACE_XXL = 32

# -- radii (px) ---------------------------------------------------------------------------------
RADIUS_S = 4  # chips, small buttons
RADIUS_M = 6  # list rows, inputs, buttons
RADIUS_L = 10  # cards, bubbles, the palette

# -- type scale (px) ----------------------------------------------------------------------------
# Hangul reads smaller than Latin at the same size and needs more line height; the scale is
# chosen for the Korean faces first (Pretendard / Noto Sans KR / Nanum), Latin follows.
TYPE_CAPTION = 11
TYPE_SMALL = 12
TYPE_BODY = 13
TYPE_TITLE = 15
TYPE_HEADING = 20
TYPE_DISPLAY = 26
LINE_HEIGHT = 1.45  # for body text with Hangul

UI_FONTS = [
    "Pretendard",
    "Noto Sans KR",
    "Noto Sans CJK KR",
    "Apple SD Gothic Neo",
    "Malgun Gothic",
    "NanumBarunGothic",
    "NanumGothic",
    "Noto Sans",
    "DejaVu Sans",
    "sans-serif",
]
MONO_FONTS = ["JetBrains Mono", "D2Coding", "NanumGothicCoding", "DejaVu Sans Mono", "monospace"]

# -- sizes of recurring elements (px) -----------------------------------------------------------
ICON_S = 16
ICON_M = 20
ICON_L = 48  # empty states
SIDEBAR_WIDTH = 208
TOOLBAR_HEIGHT = 48
ROW_NOTE = 60  # title + first line
ROW_GROUP_HEADER = 28


@dataclass(frozen=True)
class Colors:
    """Colour tokens (``#rrggbb``). ``on_*`` is the text colour for the matching fill."""

    window: str  # the app background (toolbar, list column)
    surface: str  # editors, cards, inputs
    sidebar: str
    raised: str  # popups, the palette, bubbles from Saem
    border: str
    border_strong: str
    text: str
    muted: str  # secondary text: dates, first lines, captions
    faint: str  # placeholder text
    accent: str  # buttons, links, focus ring, the current selection marker
    on_accent: str
    accent_soft: str  # selected rows (text stays ``text``)
    hover: str  # rows and buttons under the mouse
    link: str
    danger: str
    on_danger: str
    success: str
    warning: str
    highlight: str  # matched text in search results
    user_bubble: str
    on_user_bubble: str
    overlay: str  # OCR box fill (drawn with alpha)


LIGHT = Colors(
    window="#f6f5f2",
    surface="#ffffff",
    sidebar="#eeece7",
    raised="#ffffff",
    border="#e1ded7",
    border_strong="#c9c5bb",
    text="#1d1c1a",
    muted="#5d5a53",
    faint="#6e6b63",
    accent="#0f6e66",
    on_accent="#ffffff",
    accent_soft="#d6ebe7",
    hover="#e7e4dd",
    link="#0b5f8a",
    danger="#b42318",
    on_danger="#ffffff",
    success="#1f7a3d",
    warning="#8a5a00",
    highlight="#fff0b3",
    user_bubble="#0f6e66",
    on_user_bubble="#ffffff",
    overlay="#0f6e66",
)

DARK = Colors(
    window="#1b1c1f",
    surface="#222327",
    sidebar="#17181a",
    raised="#2a2b30",
    border="#33353a",
    border_strong="#4a4c52",
    text="#ececea",
    muted="#a9a8a3",
    faint="#98978f",
    accent="#5cc8b8",
    on_accent="#08201d",
    accent_soft="#1f3f3b",
    hover="#2c2e33",
    link="#7cc4f0",
    danger="#ff8a80",
    on_danger="#2a0c09",
    success="#6fd396",
    warning="#f2c46b",
    highlight="#5a4a12",
    user_bubble="#1f4f49",
    on_user_bubble="#f2fbf9",
    overlay="#5cc8b8",
)

SCHEMES: dict[Scheme, Colors] = {"light": LIGHT, "dark": DARK}

_current: Scheme = "light"


def colors(scheme: Scheme | None = None) -> Colors:
    """The tokens of ``scheme``, or of the scheme the app runs in now."""
    return SCHEMES[scheme or _current]


def current_scheme() -> Scheme:
    return _current


def set_current_scheme(scheme: Scheme) -> None:
    """Only ``theme.apply_theme`` calls this (it also restyles the app)."""
    global _current
    _current = scheme


# -- WCAG contrast ------------------------------------------------------------------------------


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2.x contrast ratio of two opaque colours, 1.0 … 21.0."""
    a, b = relative_luminance(fg), relative_luminance(bg)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


# (foreground token, background token, minimum ratio): every pairing the app draws text or a
# focus indicator with. 4.5 = AA normal text, 3.0 = AA large text / non-text UI (focus ring).
CONTRAST_PAIRS: list[tuple[str, str, float]] = [
    *[
        (fg, bg, 4.5)
        for fg in ("text", "muted")
        for bg in ("window", "surface", "sidebar", "raised", "hover", "accent_soft")
    ],
    ("faint", "surface", 4.5),
    ("faint", "window", 4.5),
    ("on_accent", "accent", 4.5),
    ("on_danger", "danger", 4.5),
    ("on_user_bubble", "user_bubble", 4.5),
    ("link", "surface", 4.5),
    ("link", "raised", 4.5),
    ("accent", "surface", 4.5),  # accent-coloured text (counts, the active section)
    ("accent", "sidebar", 4.5),
    ("accent", "accent_soft", 3.0),
    ("danger", "surface", 4.5),
    ("text", "highlight", 4.5),
    ("success", "surface", 4.5),
    ("warning", "surface", 4.5),
    ("accent", "window", 3.0),  # the focus ring on the window background
    ("border_strong", "surface", 1.4),  # input outlines are paired with a label; not text
]


def check_contrast(scheme: Scheme) -> list[tuple[str, str, float, float]]:
    """Every pair of ``scheme`` as (fg, bg, ratio, required)."""
    tokens = colors(scheme)
    return [
        (fg, bg, contrast_ratio(getattr(tokens, fg), getattr(tokens, bg)), need)
        for fg, bg, need in CONTRAST_PAIRS
    ]


def token_names() -> list[str]:
    return [f.name for f in fields(Colors)]
