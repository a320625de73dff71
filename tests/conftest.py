"""Shared test media: small real videos encoded with PyAV, faces from a public-domain photo."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from evaluation.samples import make_sample_video

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


@pytest.fixture(scope="session", autouse=True)
def runtime_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache folder for built models and runtime choices, for every test and
    every ``veil`` they start, instead of the user's ``~/.cache/veil``."""
    folder = tmp_path_factory.mktemp("veil-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VEIL_CACHE_DIR", str(folder))
        yield folder


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


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> SampleVideo:
    path = tmp_path_factory.mktemp("media") / "walk.mp4"
    return SampleVideo(path, make_sample_video(path, frames=36))
