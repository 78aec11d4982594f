"""The visual system: WCAG AA contrast of every text pairing in both schemes, the icon set and
its licence, and the theme applied to the running app."""

from __future__ import annotations

import pytest

from desktop.gui.theme.tokens import (
    CONTRAST_PAIRS,
    DARK,
    LIGHT,
    SCHEMES,
    check_contrast,
    contrast_ratio,
    token_names,
)


def test_contrast_formula_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # WCAG's own example boundary: #767676 on white is the lightest grey that passes AA.
    assert contrast_ratio("#767676", "#ffffff") >= 4.5
    assert contrast_ratio("#777777", "#ffffff") < 4.5


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_text_pairing_meets_wcag_aa(scheme):
    failures = [
        f"{fg} on {bg}: {ratio:.2f} < {need}"
        for fg, bg, ratio, need in check_contrast(scheme)
        if ratio < need
    ]
    assert not failures, failures


def test_pairs_name_real_tokens_and_both_schemes_define_all():
    names = set(token_names())
    assert {fg for fg, _bg, _n in CONTRAST_PAIRS} <= names
    assert {bg for _fg, bg, _n in CONTRAST_PAIRS} <= names
    for tokens in (LIGHT, DARK):
        for name in names:
            value = getattr(tokens, name)
            assert value.startswith("#") and len(value) == 7, (name, value)


def test_a_failing_colour_is_caught(monkeypatch):
    """The check can fail: a too-light muted grey on the light surface is reported."""
    from dataclasses import replace

    import desktop.gui.theme.tokens as tokens

    monkeypatch.setitem(tokens.SCHEMES, "light", replace(LIGHT, muted="#a0a0a0"))
    bad = [(fg, bg) for fg, bg, r, need in check_contrast("light") if r < need]
    assert ("muted", "surface") in bad


def test_icon_set_is_complete_and_licensed():
    from desktop.gui.theme.icons import ICON_DIR, ICON_NAMES

    for name in ICON_NAMES:
        svg = (ICON_DIR / f"{name}.svg").read_text(encoding="utf-8")
        assert "currentColor" in svg, name  # tintable
    licence = (ICON_DIR / "LICENSE.txt").read_text(encoding="utf-8")
    assert "ISC License" in licence
    assert "lucide-static" in (ICON_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    shipped = {p.stem for p in ICON_DIR.glob("*.svg")}
    assert shipped == set(ICON_NAMES)  # no unlisted (unreviewed) files


def test_apply_theme_styles_the_app_and_tints_icons(qapp):
    from PySide6.QtGui import QPalette

    from desktop.gui.theme import apply_theme, icons

    try:
        assert apply_theme(qapp, "dark") == "dark"
        assert qapp.palette().color(QPalette.ColorRole.Base).name() == DARK.surface
        assert DARK.accent in qapp.styleSheet()
        dark_icon = icons.pixmap("search", 16, "text").toImage()
        apply_theme(qapp, "light")
        assert qapp.palette().color(QPalette.ColorRole.Base).name() == LIGHT.surface
        light_icon = icons.pixmap("search", 16, "text").toImage()
        assert dark_icon != light_icon  # re-tinted, not a cached dark one
    finally:
        apply_theme(qapp, "light")
