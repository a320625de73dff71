"""Running the tools under evaluation and scoring what they wrote.

Shared by ``bench/eval_video.py`` (generated scenarios) and ``bench/eval_real.py``
(real photos filmed by a virtual camera): each tool is run as a command on a
video, and its output is scored from pixels against the original and the
ground truth (:mod:`evaluation.metrics`).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from evaluation.metrics import (
    FaceFrame,
    IdScore,
    background_mask,
    clip_box,
    id_scores,
    score_frame,
)
from evaluation.metrics import altered as altered_pixels
from evaluation.scenarios import GroundTruth
from veil.annotations import AnnotationIndex, read_annotations
from veil.media import read_frames

DEFACE_PIN = "deface==1.5.0"


def deface_binary(venv: Path, create: bool) -> Path | None:
    """deface in its own virtual environment ``venv`` (its dependencies clash with
    veil's), created with ``DEFACE_PIN`` when ``create`` and missing; None if unavailable."""
    binary = venv / "bin" / "deface"
    if binary.is_file():
        return binary
    if not create:
        return None
    python = shutil.which("python3.11") or shutil.which("python3")
    print(f"setting up {venv.name} ({DEFACE_PIN}) ...", file=sys.stderr)
    try:
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", DEFACE_PIN], check=True)
    except (subprocess.CalledProcessError, TypeError) as exc:
        print(f"deface could not be installed ({exc}): veil alone", file=sys.stderr)
        return None
    return binary if binary.is_file() else None


def run_timed(cmd: list[str]) -> float:
    """Runs ``cmd``; its wall time in seconds. Raises RuntimeError with its stderr if it fails."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def veil_command(src: Path | None) -> list[str]:
    """``python -m veil``, from the ``src`` folder of another source tree if given."""
    if src is None:
        return [sys.executable, "-m", "veil"]
    start = "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
    start += "runpy.run_module('veil', run_name='__main__', alter_sys=True)"
    return [sys.executable, "-c", start, str(src.resolve())]


def run_veil_combined(video: Path, folder: Path, args: list[str], src: Path | None) -> float:
    """``veil combined`` on ``video`` into ``folder`` (its annotations too), with ``args``
    (``src``: the veil of that ``src`` folder); its wall time in seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [*veil_command(src), "combined", str(video), "-o", str(folder)]
    return run_timed([*cmd, "--annotations-out", "--quiet", *args])


def frames_at_size(path: Path, size: tuple[int, int]) -> Iterator[NDArray[np.uint8]]:
    """RGB frames of ``path``, resized to ``size`` if the tool changed it."""
    for frame in read_frames(path):
        rgb = frame.rgb
        if (rgb.shape[1], rgb.shape[0]) != size:
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        yield rgb


@dataclass
class ScoredVideo:
    """Every face-frame's score and the background pixels changed, over one output.

    ``sizes[k]`` is the larger side (px) of the true box of ``faces[k]``, and
    ``touched[k]`` the share of that box's pixels the tool changed (a leaked
    face with almost none changed was missed; one with many was covered but
    not hidden).
    """

    faces: list[FaceFrame]
    sizes: list[float]
    touched: list[float]
    altered: int
    background: int
    frames: int


def score_output(original: Path, output: Path, truth: GroundTruth) -> ScoredVideo:
    """Scores ``output`` (a redacted ``original``) frame by frame against ``truth``."""
    size = (truth.width, truth.height)
    faces: list[FaceFrame] = []
    sizes: list[float] = []
    touched: list[float] = []
    altered = background = n = 0
    originals, outputs = frames_at_size(original, size), frames_at_size(output, size)
    for n, (a, b, truths) in enumerate(zip(originals, outputs, truth.frames, strict=False), 1):
        faces += score_frame(n - 1, a, b, [(f.id, f.box, f.visible) for f in truths])
        sizes += [max(f.box[2] - f.box[0], f.box[3] - f.box[1]) for f in truths]
        changed = altered_pixels(a, b)
        touched += [_share(changed, f.box) for f in truths]
        outside = background_mask(truth.height, truth.width, [f.box for f in truths])
        altered += int((changed & outside).sum())
        background += int(outside.sum())
    return ScoredVideo(faces, sizes, touched, altered, background, n)


def _share(mask: NDArray[np.bool_], box: tuple[float, float, float, float]) -> float:
    """The share of ``box``'s pixels (clipped to the frame) that are set in ``mask``."""
    clipped = clip_box(box, mask.shape[1], mask.shape[0])
    if clipped is None:
        return 0.0
    x0, y0, x1, y1 = clipped
    return float(mask[y0:y1, x0:x1].mean())


def track_scores(annotations: Path, truth: GroundTruth) -> IdScore:
    """IDF1 and ID switches of veil's annotations against the ground truth."""
    index = AnnotationIndex(read_annotations(annotations), (truth.width, truth.height))
    hyps = [
        [(b.face_id, (b.x0, b.y0, b.x1, b.y1)) for b in index.faces_at(Fraction(i, truth.fps))]
        for i in range(len(truth.frames))
    ]
    faces = [[(f.id, f.box, f.visible) for f in frame] for frame in truth.frames]
    return id_scores(faces, hyps, truth.width, truth.height)
