"""mypy runs in the suite: `core storage sync models desktop`, strict (config in pyproject.toml).

The errors that are left are listed in ``tests/mypy_baseline.txt`` (one per line, without line
numbers, so unrelated edits do not move them). The baseline only shrinks: a new error fails
the test; a listed error that is gone is reported (shrink the file with
``python tests/test_types.py --update``, which refuses to add errors).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "tests" / "mypy_baseline.txt"
MYPY_FLAGS = ["--no-pretty", "--no-color-output", "--no-error-summary", "--hide-error-context"]
_ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+(?::\d+)?: error: (?P<message>.*)$")


def mypy_errors() -> Counter[str]:
    """mypy's errors as ``path: message  [code]`` (line numbers dropped), counted."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *MYPY_FLAGS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
    )
    if result.returncode not in (0, 1) or "error:" in result.stderr:
        raise RuntimeError(f"mypy did not run: {result.stdout}\n{result.stderr}")
    errors: Counter[str] = Counter()
    for line in result.stdout.splitlines():
        m = _ERROR.match(line)
        if m:
            errors[f"{m['path']}: {m['message']}"] += 1
    return errors


def read_baseline() -> Counter[str]:
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(ln for ln in lines if ln.strip() and not ln.startswith("#"))


def test_mypy_errors_only_shrink(capsys: pytest.CaptureFixture[str]) -> None:
    current, baseline = mypy_errors(), read_baseline()
    gone = baseline - current
    with capsys.disabled():
        print(f"\nmypy: {current.total()} errors (baseline {baseline.total()})")
        if gone:
            print(f"{gone.total()} fixed; shrink it: python tests/test_types.py --update")
    new = current - baseline
    assert not new, "new mypy errors (fix them; the baseline only shrinks):\n" + "\n".join(
        sorted(new.elements())
    )


def _update() -> int:
    current, baseline = mypy_errors(), read_baseline() if BASELINE.exists() else None
    if baseline is not None and current - baseline:
        print("refusing to grow the baseline; new errors:", *sorted(current - baseline), sep="\n")
        return 1
    header = "# mypy errors left (tests/test_types.py); this list may only shrink.\n"
    BASELINE.write_text(header + "".join(f"{e}\n" for e in sorted(current.elements())), "utf-8")
    print(f"baseline: {current.total()} errors")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_types.py --update")
    sys.exit(_update())
