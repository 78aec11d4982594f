"""End-to-end tests: the crash harness's counts in the terminal summary."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.e2e.test_crash_harness import REPORTS

    if not REPORTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("kill -9 crash harness")
    for r in REPORTS:
        write(
            f"{r.scenario:>7}: {r.kills} kills ({r.mid_operation} mid-operation = "
            f"{r.kills_mid_fraction:.0%} of kills, {r.mid_fraction:.0%} of {r.runs} workers; "
            f"{r.in_transaction} inside a transaction), {r.acked_checked} acknowledged writes "
            "checked, "
            f"{r.libraries_checked} library checks, {r.resumes_checked} resumes, {r.seconds}s"
        )
    write(f"  total: {sum(r.kills for r in REPORTS)} kills")
