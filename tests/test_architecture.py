"""House rules that keep the codebase in shape, checked on every run."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    names |= {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
    }
    return {name.split(".")[0] for name in names}


def python_files(*patterns: str) -> list[Path]:
    return [
        path for pattern in patterns for path in ROOT.glob(pattern) if ".venv" not in path.parts
    ]


def test_only_engine_imports_spiffworkflow() -> None:
    own_tests = ROOT / "tests" / "engine"  # the engine's own tests may use SpiffWorkflow types
    files = python_files("*.py", "app/**/*.py", "tests/**/*.py", "bench/**/*.py")
    offenders = [
        p for p in files if own_tests not in p.parents and "SpiffWorkflow" in top_level_imports(p)
    ]
    assert not offenders


def test_engine_is_a_plain_library() -> None:
    banned = {"flask", "flask_sqlalchemy", "sqlalchemy", "app", "celery"}
    offenders = [p for p in python_files("engine/**/*.py") if top_level_imports(p) & banned]
    assert not offenders


def test_commit_only_at_the_edge() -> None:
    inner = python_files(
        "app/**/services.py", "app/**/models.py", "app/**/queries.py", "engine/**/*.py"
    )
    offenders = [p for p in inner if ".commit(" in p.read_text(encoding="utf-8")]
    assert not offenders


def test_no_external_assets_in_templates() -> None:
    offenders = [
        p
        for p in ROOT.glob("app/**/templates/**/*.html")
        if "https://" in p.read_text(encoding="utf-8") or "http://" in p.read_text(encoding="utf-8")
    ]
    assert not offenders
