"""Running one job per input: progress bar, one-line errors, damaged-frame warnings."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from veil.cli.progress import Progress
from veil.errors import VeilError
from veil.media import is_image, probe

log = logging.getLogger("veil")


class HasDamagedFrames(Protocol):
    damaged_frames: list[int]


R = TypeVar("R", bound=HasDamagedFrames)


def frame_total(src: Path, passes: int = 1) -> int | None:
    """Frames a job will report, for the progress bar; None when unknown."""
    if is_image(src):
        return None
    try:
        count = probe(src).frame_count
    except VeilError:
        return None  # the job itself reports the problem
    return count * passes or None


def each_input(
    inputs: list[Path],
    job: Callable[[Path, Callable[[int], None]], R],
    quiet: bool,
    verb: str,
    passes: int = 1,
) -> Iterator[tuple[Path, R | None, str | None]]:
    """Run ``job(src, on_frame)`` for each input: yields (src, result, None) or (src, None, error).

    A user error (bad input, unwritable output) is printed as one line and the
    next input is processed; damaged frames are reported as a warning.
    """
    show = not quiet and sys.stderr.isatty()
    for src in inputs:
        with Progress(src.name, frame_total(src, passes) if show else None, show) as progress:
            try:
                result = job(src, progress.update)
            except (VeilError, OSError) as exc:  # OSError: unreadable input, disk full...
                progress.close()
                print(f"veil: error: {exc}", file=sys.stderr)
                log.debug("details", exc_info=True)
                yield src, None, str(exc)
                continue
        if result.damaged_frames:
            log.warning(
                "%s: %d damaged frame(s) were %s as decoded: %s",
                src,
                len(result.damaged_frames),
                verb,
                result.damaged_frames[:20],
            )
        yield src, result, None
