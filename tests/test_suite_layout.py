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


def test_the_tests_mirror_the_packages():
    # a test of veil.track is found in tests/track/, as the code is in src/veil/track/
    src = REPO / "src" / "veil"
    packages = {p.name for p in src.iterdir() if (p / "__init__.py").is_file()}
    folders = {p.name for p in (REPO / "tests").iterdir() if (p / "__init__.py").is_file()}
    assert folders - packages == {"benchmarks"}  # the evaluation code in bench/
    modules = {p.stem for p in src.glob("*.py")}
    top = {p.stem.removeprefix("test_") for p in (REPO / "tests").glob("test_*.py")}
    assert top - modules == {"layers", "suite_layout"}
