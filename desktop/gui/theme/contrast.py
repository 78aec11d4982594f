"""Print the WCAG contrast of every text/background pairing of both schemes; exit 1 if one
is below its AA minimum.  ``python -m desktop.gui.theme.contrast``"""

from __future__ import annotations

import sys

from desktop.gui.theme.tokens import SCHEMES, check_contrast, colors


def main() -> int:
    failed = 0
    for scheme in SCHEMES:
        print(f"\n{scheme}")
        tokens = colors(scheme)
        for fg, bg, ratio, need in check_contrast(scheme):
            ok = ratio >= need
            failed += not ok
            fg_hex, bg_hex = getattr(tokens, fg), getattr(tokens, bg)
            print(
                f"  {'ok  ' if ok else 'FAIL'} {fg:>15} {fg_hex} on {bg:<12} {bg_hex}"
                f"  {ratio:5.2f} (≥ {need})"
            )
    print(f"\n{failed} pair(s) below WCAG AA" if failed else "\nall pairs meet WCAG AA")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
