"""Errors a user can act on.

Every failure caused by the user's input is a :class:`VeilError`: the CLI prints
its message on one line and exits with code 2, the service stores it on the job.
"""

from __future__ import annotations

from pathlib import Path


class VeilError(Exception):
    """A problem with the user's input or request, stated in one line."""


class InputError(VeilError):
    """A file given by the user cannot be used; the message names the file."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
