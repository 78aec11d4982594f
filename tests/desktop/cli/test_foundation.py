"""The `saem` command line: help everywhere, one clear line on error, import/export/doctor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from desktop.cli.main import cli
from tests.fixtures.vault import build_vault

REPO = Path(__file__).resolve().parents[3]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for path in _commands(cli):
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        command = cli
        for part in path:
            command = command.commands[part]  # type: ignore[attr-defined]
        assert command.help or command.short_help, f"saem {' '.join(path)} has no help text"


def _saem(library: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, SAEM_LIBRARY=str(library), PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_errors_are_one_line_with_nonzero_exit(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    result = _saem(lib, "notes", "show", "doesnotexist")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["saem: error: No note with id doesnotexist."]
    result = _saem(lib, "notes", "new", "--file", str(tmp_path / "missing.md"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    bad = tmp_path / "latin1.md"
    bad.write_bytes(b"caf\xe9")
    result = _saem(lib, "notes", "new", "--file", str(bad))
    assert result.returncode == 1 and "not UTF-8" in result.stderr


def test_import_export_round_trip_through_the_cli(tmp_path: Path) -> None:
    vault = build_vault(tmp_path / "vault")
    lib = tmp_path / "lib"
    result = _saem(lib, "import", str(vault))
    assert result.returncode == 0, result.stderr
    assert "5 notes added" in result.stdout
    listed = [
        json.loads(line)
        for line in _saem(lib, "notes", "list", "--json").stdout.split("\n")
        if line
    ]
    assert {n["title"] for n in listed} >= {"서울 하루", "Reading"}
    out = tmp_path / "out"
    assert _saem(lib, "export", str(out)).returncode == 0
    assert (out / "Daily" / "2024-07-14.md").read_text("utf-8") == (
        vault / "Daily" / "2024-07-14.md"
    ).read_text("utf-8")
    doctor = _saem(lib, "doctor")
    assert doctor.returncode == 0 and "integrity      ok" in doctor.stdout


def test_notes_new_edit_show_delete(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    note_id = _saem(lib, "notes", "new", "--body", "# 장보기\n우유, 달걀 #shopping").stdout.strip()
    assert len(note_id) == 32
    assert (
        _saem(
            lib,
            "notes",
            "edit",
            note_id[:8],
            "--file",
            "-",
            stdin="# 장보기\n우유, 달걀, 빵 #shopping\n",
        ).returncode
        == 0
    )
    shown = json.loads(_saem(lib, "notes", "show", note_id[:8], "--json").stdout)
    assert shown["body"] == "# 장보기\n우유, 달걀, 빵 #shopping\n"
    assert shown["tags"] == ["shopping"]
    assert "#shopping" in _saem(lib, "tags").stdout
    assert _saem(lib, "notes", "delete", note_id).returncode == 0
    assert _saem(lib, "notes", "show", note_id).returncode == 1


def test_demo_library_and_photos_commands(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert _saem(lib, "demo").returncode == 0
    photos = [json.loads(x) for x in _saem(lib, "photos", "list", "--json").stdout.splitlines()]
    assert len(photos) >= 5
    sign = next(p for p in photos if p["title"] == "station_sign")
    shown = json.loads(_saem(lib, "photos", "show", sign["id"], "--json").stdout)
    assert shown["gps"] == [37.5759, 126.9735] and Path(shown["thumbnail"]).is_file()
    runner = CliRunner()
    result = runner.invoke(cli, ["--library", str(tmp_path / "lib"), "info"])
    assert "notes" in result.output
