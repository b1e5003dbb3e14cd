"""The import rule of docs/architecture.md, checked on the source: the tiers meet only at the release."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "server"
BUILD_MODULES = {"sources", "graph", "checks", "release", "validation"}
WEB_MODULES = {"app", "store", "formats", "sparql", "resources", "pages", "lookup", "reconcile", "index",
               "guard", "executor", "limits", "observability", "remote", "wsgi", "gunicorn_conf"}
BUILD_ONLY_LIBRARIES = {"pyshacl", "owlready2"}


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # from . import x / from .x import y
                names.update(f"server.{alias.name}" for alias in node.names) if not module else names.add(f"server.{module}")
            else:
                names.add(module)
    return names


def modules(kind: set[str]) -> list[Path]:
    return [p for p in sorted(SERVER.glob("*.py")) if p.stem in kind]


@pytest.mark.parametrize("path", modules(WEB_MODULES), ids=lambda p: p.stem)
def test_web_modules_never_import_the_build_tier(path):
    bad = {n for n in imported_names(path)
           if n.split(".")[0] in BUILD_ONLY_LIBRARIES or (n.startswith("server.") and n.split(".")[1] in BUILD_MODULES)}
    assert bad == set()


@pytest.mark.parametrize("path", modules(BUILD_MODULES), ids=lambda p: p.stem)
def test_build_modules_never_import_flask(path):
    bad = {n for n in imported_names(path)
           if n.split(".")[0] in {"flask", "werkzeug", "gunicorn"} or (n.startswith("server.") and n.split(".")[1] in WEB_MODULES)}
    assert bad == set()


def test_only_checks_imports_the_validators():
    importers = {p.stem for p in SERVER.glob("*.py") if {n.split(".")[0] for n in imported_names(p)} & BUILD_ONLY_LIBRARIES}
    assert importers == {"checks"}


def test_only_config_reads_settings_from_the_environment():
    reads = ("os.environ.get(", "os.environ[", "os.getenv(", "environ.items()")
    readers = {p.stem for p in SERVER.glob("*.py") if any(r in p.read_text(encoding="utf-8") for r in reads)}
    assert readers <= {"config"}
