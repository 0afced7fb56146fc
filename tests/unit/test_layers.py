"""Imports point down the layers (../shared/DESIGN.md), not even inside a
function: the two cycles that function-level imports used to hide stay gone."""

from __future__ import annotations

import ast
from pathlib import Path

import compiler

ROOT = Path(compiler.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (`from a import b` gives a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _offenders(files: list[Path], banned: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT.parent)} imports {name}"
        for path in files
        for name in sorted(_imports(path))
        if name == banned or name.startswith(banned + ".")
    ]


def test_registry_does_not_import_targets() -> None:
    # compiler-opt gets its -t targets from compiler.targets.cpu itself; the
    # registry only names the target packages whose passes it loads.
    assert _offenders([ROOT / "registry.py"], "compiler.targets") == []


def test_converters_do_not_import_the_importer() -> None:
    # onnx.py imports onnx_ops, which build on converter.py, never the reverse.
    files = sorted((ROOT / "frontend" / "onnx_ops").glob("*.py")) + [ROOT / "frontend" / "converter.py"]
    assert _offenders(files, "compiler.frontend.onnx") == []
