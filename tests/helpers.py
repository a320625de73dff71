"""Helpers for the tests: running the real CLI, decoding what it wrote, comparing regions."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class SampleVideo:
    path: Path
    boxes: list[list[Box]]  # per frame, per face (xyxy, stored orientation)


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_veil(*args: str | Path, cwd: Path | None = None) -> CliResult:
    """Run the real ``veil`` command in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "veil", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def decode_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def frame_pts(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [float(f.pts * stream.time_base) for f in container.decode(stream)]


def region_diff(a: np.ndarray, b: np.ndarray, box: Box) -> float:
    """Mean absolute pixel difference inside ``box``."""
    x0, y0, x1, y1 = box
    return float(np.abs(a[y0:y1, x0:x1].astype(int) - b[y0:y1, x0:x1].astype(int)).mean())


def shrink(box: Box, fraction: float = 0.25) -> Box:
    """The central part of a box (the part any mask must cover)."""
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * fraction, (y1 - y0) * fraction
    return round(x0 + dx), round(y0 + dy), round(x1 - dx), round(y1 - dy)


def outside_mask(shape: tuple[int, ...], boxes: list[Box], grow: float = 1.0) -> np.ndarray:
    """True where a pixel is far from every face (boxes grown by ``grow`` of their size)."""
    mask = np.ones(shape[:2], bool)
    for x0, y0, x1, y1 in boxes:
        gx, gy = (x1 - x0) * grow, (y1 - y0) * grow
        mask[max(0, int(y0 - gy)) : int(y1 + gy), max(0, int(x0 - gx)) : int(x1 + gx)] = False
    return mask


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout: float = 60.0, every: float = 0.1) -> Any:
    """Poll ``check`` until it returns something true (that value), for a condition that
    no event announces; fails the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {check}")
        time.sleep(every)
