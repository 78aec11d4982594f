"""The architecture's import rules, checked two ways: import-linter contracts and an AST scan."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QT_MODULES = ("PySide6", "shiboken6", "PyQt5", "PyQt6")
LOWER_LAYERS = ("core", "storage", "sync", "models")
# desktop must go through core: no SQL, no model runtimes, no lower layers directly.
DESKTOP_FORBIDDEN = ("sqlite3", "onnxruntime", "llama_cpp", "storage", "models", "sync")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((REPO / folder).rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(REPO)} imports {name}")
    return found


def test_core_storage_sync_models_never_import_qt() -> None:
    problems = [v for layer in LOWER_LAYERS for v in _violations(layer, QT_MODULES)]
    assert problems == []


def test_desktop_goes_through_core() -> None:
    assert _violations("desktop", DESKTOP_FORBIDDEN) == []


def test_storage_and_models_do_not_import_upper_layers() -> None:
    assert _violations("storage", ("core", "desktop", "sync", "models")) == []
    assert _violations("models", ("core", "desktop", "sync", "storage")) == []
    assert _violations("sync", ("core", "desktop")) == []


def test_import_linter_contracts() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([exe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


CORE_SERVICES = (
    "Searcher",
    "Recommender",
    "Assistant",
    "Indexer",
    "SyncService",
    "EventLog",
    "QuickFinder",
    "ChatsService",
    "ModelManager",
    "NotesService",
    "PhotosService",
)


def test_desktop_reaches_services_only_through_the_library() -> None:
    """The GUI and the CLI ask ``Library`` for a service; they never construct one."""
    found = []
    for path in sorted((REPO / "desktop").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if call and node.func.id in CORE_SERVICES:  # type: ignore[attr-defined]
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.func.id}(…)")
    assert found == []


def test_core_is_a_few_modules_and_documented_sub_packages() -> None:
    core = REPO / "core"
    modules = [p.name for p in core.glob("*.py") if p.name != "__init__.py"]
    assert len(modules) <= 10, modules
    contracts = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    for package in sorted(p.parent for p in core.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"{package.name}/__init__.py needs its docstring"
        assert f'"{package.name}' in contracts or f"| {package.name}" in contracts, package.name
