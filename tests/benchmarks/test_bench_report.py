"""Benchmark figures say where they come from: each script's section of
docs/benchmarks.md is replaced, stamped, and the rest of the file kept."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def report(monkeypatch):
    spec = importlib.util.spec_from_file_location("report", BENCH / "report.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "report", module)
    spec.loader.exec_module(module)
    return module


def test_a_section_is_stamped_and_replaced_leaving_the_rest(report, tmp_path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{report.NEW_SECTIONS}\n\n## Not rerun\n\nold figures\n")
    when = datetime(2026, 12, 8, 2, 30, tzinfo=UTC)
    argv = [str(BENCH / "bench_speed.py"), "--repeat", "2"]
    report.publish("speed", "Speed", "| a |\n|---|\n| 1 |", doc, when, argv)
    report.publish("eval", "Eval", "| b |\n|---|\n| 2 |", doc, when, argv)
    report.publish("speed", "Speed", "| a |\n|---|\n| 3 |", doc, when, argv)

    text = doc.read_text()
    assert "| 1 |" not in text and "| 3 |" in text and "| 2 |" in text
    assert text.index("| 3 |") < text.index("| 2 |") < text.index("old figures")
    assert text.count("Measured 2026-12-08 02:30 UTC, commit `") == 2
    assert "command: `python bench/bench_speed.py --repeat 2`" in text
    cpu = report.machine()
    assert "cores" in cpu and f"on {cpu};" in text
