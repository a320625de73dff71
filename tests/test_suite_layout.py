"""The test suite's own layout: fixtures in conftest, what tests import in helpers."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_no_test_or_script_imports_a_conftest():
    # conftest files are pytest's to load, for their fixtures: what a test imports
    # lives in a helpers module, which works under any of pytest's import modes
    offending = []
    for path in [*(REPO / "tests").rglob("*.py"), *(REPO / "bench").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[-1] == "conftest" for n in names):
                offending.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offending == []
