"""kill -9 at random points during import, indexing, editing, sync and relay sync (the relay
server is killed too; see crash_harness).

After every kill: the library opens, `PRAGMA integrity_check` and the foreign keys are ok,
rows equal their CRDT logs, blobs match their hashes, every acknowledged write is present;
interrupted work resumes and completes. The default run kills a few dozen workers; the
slow run 1,000. Each test prints its counts (``pytest -rP``), and the e2e conftest sums them.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.e2e.crash_harness import CrashReport, Scenario, run_scenario
from tests.e2e.crash_relay import RelayScenario
from tests.e2e.crash_scenarios import EditScenario, ImportScenario, IndexScenario
from tests.e2e.crash_sync import SyncScenario

SCENARIOS: dict[str, type[Scenario]] = {
    "import": ImportScenario,
    "index": IndexScenario,
    "edit": EditScenario,
    "sync": SyncScenario,
    "relay": RelayScenario,
}
DEFAULT_KILLS = {"import": 50, "index": 50, "edit": 50, "sync": 30, "relay": 12}
SLOW_KILLS = {"import": 300, "index": 300, "edit": 280, "sync": 120, "relay": 25}
REPORTS: list[CrashReport] = []  # read by the terminal summary in conftest.py


def _crash(name: str, kills: int, tmp_path: Path, seed: int) -> None:
    scenario = SCENARIOS[name](tmp_path, random.Random(seed))
    try:
        report = run_scenario(scenario, kills)
    finally:
        scenario.close()
    REPORTS.append(report)
    assert report.kills == kills
    # the kills land mid-operation, and most workers are killed before they finish (the
    # others complete a round of work, whose result is then checked)
    assert report.kills_mid_fraction >= 0.95, report
    assert report.mid_fraction >= 0.75, report
    assert report.acked_checked > 0 and report.libraries_checked >= kills
    assert report.resumes_checked >= 1


@pytest.mark.parametrize("name", list(DEFAULT_KILLS))
def test_kill_9_at_random_points(name: str, tmp_path: Path) -> None:
    _crash(name, DEFAULT_KILLS[name], tmp_path, seed=len(name))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW_KILLS))
def test_kill_9_a_thousand_times(name: str, tmp_path: Path) -> None:
    _crash(name, SLOW_KILLS[name], tmp_path, seed=1000 + len(name))


def test_slow_mode_kills_a_thousand_workers() -> None:
    assert sum(SLOW_KILLS.values()) >= 1000
