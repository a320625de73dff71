"""Figures that say where they come from: each script's tables, stamped, in docs/benchmarks.md.

Every bench and evaluation script gives its tables to :func:`publish`, which
replaces that script's section of ``docs/benchmarks.md`` (or adds it) with the
tables under a stamp: the date, the commit the run started at (``-dirty`` when
the source differed from it), the machine (CPU model and cores) and the exact command. Sections of
other scripts, and any text outside the sections, are kept as they are.
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "docs" / "benchmarks.md"
# New sections go just above this line of docs/benchmarks.md.
NEW_SECTIONS = "<!-- new sections go above this line -->"


def commit(repo: Path = REPO) -> str:
    """The checked-out commit, with ``-dirty`` when src/ or bench/ differ from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "src", "bench"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}-dirty" if changed else head


# The commit when the script started (it may be committed past while a long run goes on).
AT_START = commit()


def machine() -> str:
    """CPU model and cores, e.g. ``AMD EPYC 7B13, 2 cores (2 usable)``."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {os.cpu_count()} cores ({usable} usable)"


def command(argv: list[str] | None = None) -> str:
    """The command as run, from the repository root."""
    args = list(sys.argv if argv is None else argv)
    script = Path(args[0]).resolve()
    if script.is_relative_to(REPO):
        args[0] = str(script.relative_to(REPO))
    return shlex.join(["python", *args])


def stamp(now: datetime | None = None, argv: list[str] | None = None) -> str:
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return f"Measured {when}, commit `{commit()}`, on {machine()}; command: `{command(argv)}`"


def publish(
    name: str,
    title: str,
    body: str,
    path: Path = BENCHMARKS,
    now: datetime | None = None,
    argv: list[str] | None = None,
) -> None:
    """Put ``body`` (markdown tables) into ``path`` as the section ``name``, stamped."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    section = f"{begin}\n### {title}\n\n{stamp(now, argv)}\n\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else f"{NEW_SECTIONS}\n"
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        text = before + section + rest.split(end, 1)[1]
    elif NEW_SECTIONS in text:
        text = text.replace(NEW_SECTIONS, f"{section}\n\n{NEW_SECTIONS}", 1)
    else:
        text = text.rstrip() + f"\n\n{section}\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(f"(written to {path.relative_to(REPO) if path.is_relative_to(REPO) else path})")


class Tables:
    """Lines printed as they come and kept, to be published once the run ends."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def print(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)
