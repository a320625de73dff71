"""Real photos put in motion: a virtual camera over labelled photos, with exact ground truth.

The synthetic scenarios paste frontal faces onto empty footage; real footage
has profile and turned faces, partly covered faces, faces in shadow, soft
faces and faces on posters. This module films labelled photos (the
``wider-dev`` manifest layout: WIDER FACE validation images with their
official boxes) with a virtual camera, so the faces are real and the ground
truth is still exact:

- each photo is one shot of ``seconds`` (1.6 s by default), hard cuts between
  shots, in manifest order;
- in a shot the camera's window (the output's aspect ratio, inside the photo)
  pans and zooms linearly from one random framing to another, and shakes
  slightly (two small sinusoids per axis, as a hand-held camera does);
- every frame is the window resized to the output size (bilinear), and every
  labelled box is mapped by the same transform.

Ground truth is written as :class:`~evaluation.scenarios.GroundTruth`
(one identity per labelled box of a photo), so the synthetic suite's scoring
applies unchanged. WIDER's ``ignore`` boxes are written with ``visible`` 0:
never scored (for leaks or IDs), but kept out of the background, like every
face; faces under ``MIN_FACE`` px are not scored either (the metric's rule).
The visible fraction of a face is the share of its box inside the frame.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from evaluation.scenarios import FaceTruth, GroundTruth
from veil.media import write_video

Box = tuple[float, float, float, float]

FPS = 25
SHOT_SECONDS = 1.6
OUTPUT_SIZE = (960, 540)
# The window's width as a share of the widest window that fits in the photo,
# between these two: a 640 px photo is shown enlarged 1.5 to 2 times at 960 px.
ZOOM_RANGE = (0.75, 1.0)
# How far the window's centre moves during a shot, as a share of the photo's width.
PAN_SHARE = 0.12
# Shake: amplitude as a share of the window width, and the two frequencies (Hz).
SHAKE_SHARE = 0.006
SHAKE_HZ = (2.3, 4.1)
# Identities: photo k's box j is face k * ID_STRIDE + j + 1.
ID_STRIDE = 1000


@dataclass(frozen=True)
class LabelledPhoto:
    """One labelled photo: its file and face boxes (xyxy, photo pixels)."""

    path: Path
    width: int
    height: int
    boxes: tuple[Box, ...]
    ignore: tuple[Box, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name


def _xyxy(box: Sequence[float]) -> Box:
    x, y, w, h = (float(v) for v in box)
    return (x, y, x + w, y + h)


def photos_from_manifest(folder: Path) -> list[LabelledPhoto]:
    """The photos of a ``manifest.json`` folder (``wider-dev`` layout), in its order."""
    entries = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [
        LabelledPhoto(
            folder / entry["image"],
            int(entry["width"]),
            int(entry["height"]),
            tuple(_xyxy(b) for b in entry["boxes"]),
            tuple(_xyxy(b) for b in entry.get("ignore", [])),
        )
        for entry in entries
    ]


@dataclass(frozen=True)
class Framing:
    """Where the camera looks: the window's centre and width, in photo pixels."""

    cx: float
    cy: float
    width: float


@dataclass(frozen=True)
class CameraMove:
    """One shot's camera motion: a linear pan and zoom plus a small shake."""

    start: Framing
    end: Framing
    shake: float  # amplitude in photo pixels
    phases: tuple[float, float, float, float]  # of the x and y sinusoids


def widest_window(photo_w: int, photo_h: int, aspect: float) -> float:
    """Width of the largest window of ``aspect`` (width / height) inside the photo."""
    return min(float(photo_w), photo_h * aspect)


def _clamped(framing: Framing, photo_w: int, photo_h: int, aspect: float) -> Framing:
    half_w, half_h = framing.width / 2, framing.width / aspect / 2
    return Framing(
        min(max(framing.cx, half_w), photo_w - half_w),
        min(max(framing.cy, half_h), photo_h - half_h),
        framing.width,
    )


def plan_move(rng: np.random.Generator, photo_w: int, photo_h: int, aspect: float) -> CameraMove:
    """A random shot over a ``photo_w`` x ``photo_h`` photo (the window stays inside)."""
    widest = widest_window(photo_w, photo_h, aspect)
    widths = rng.uniform(*ZOOM_RANGE, size=2) * widest
    cx, cy = rng.uniform(0, photo_w), rng.uniform(0, photo_h)
    start = _clamped(Framing(cx, cy, float(widths[0])), photo_w, photo_h, aspect)
    step = rng.uniform(-1, 1, size=2) * PAN_SHARE * photo_w
    end = _clamped(
        Framing(start.cx + step[0], start.cy + step[1], float(widths[1])), photo_w, photo_h, aspect
    )
    # the shake must not push the window out of the photo: keep it within the margin left
    margin = min(min(f.cx - f.width / 2, photo_w - f.cx - f.width / 2) for f in (start, end))
    margin = min(
        margin,
        *(
            min(f.cy - f.width / aspect / 2, photo_h - f.cy - f.width / aspect / 2)
            for f in (start, end)
        ),
    )
    shake = min(SHAKE_SHARE * widest, max(margin, 0.0) / 2)
    phases = tuple(float(p) for p in rng.uniform(0, 2 * math.pi, size=4))
    return CameraMove(start, end, shake, phases)  # type: ignore[arg-type]


def window_at(move: CameraMove, u: float, t: float, aspect: float) -> Box:
    """The window (xyxy, photo pixels) at shot progress ``u`` (0..1), ``t`` s into the shot."""
    a, b = move.start, move.end
    width = a.width + (b.width - a.width) * u
    p = move.phases
    dx = (
        move.shake
        * 0.5
        * (
            math.sin(2 * math.pi * SHAKE_HZ[0] * t + p[0])
            + math.sin(2 * math.pi * SHAKE_HZ[1] * t + p[1])
        )
    )
    dy = (
        move.shake
        * 0.5
        * (
            math.sin(2 * math.pi * SHAKE_HZ[0] * t + p[2])
            + math.sin(2 * math.pi * SHAKE_HZ[1] * t + p[3])
        )
    )
    cx = a.cx + (b.cx - a.cx) * u + dx
    cy = a.cy + (b.cy - a.cy) * u + dy
    half_w, half_h = width / 2, width / aspect / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def to_frame(box: Box, window: Box, out_w: int, out_h: int) -> Box:
    """``box`` (photo pixels) in the pixels of the frame that shows ``window``."""
    sx = out_w / (window[2] - window[0])
    sy = out_h / (window[3] - window[1])
    return (
        (box[0] - window[0]) * sx,
        (box[1] - window[1]) * sy,
        (box[2] - window[0]) * sx,
        (box[3] - window[1]) * sy,
    )


def visible_share(box: Box, out_w: int, out_h: int) -> float:
    """The share of ``box``'s area inside the frame."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    if area <= 0:
        return 0.0
    iw = max(min(box[2], out_w) - max(box[0], 0.0), 0.0)
    ih = max(min(box[3], out_h) - max(box[1], 0.0), 0.0)
    return iw * ih / area


def frame_truth(
    photo: LabelledPhoto, photo_index: int, window: Box, out_w: int, out_h: int
) -> list[FaceTruth]:
    """Every labelled face of ``photo`` seen through ``window`` (those at least partly in it)."""
    faces = []
    labelled = [(j, box, True) for j, box in enumerate(photo.boxes)]
    labelled += [(len(photo.boxes) + j, box, False) for j, box in enumerate(photo.ignore)]
    for j, box, scored in labelled:
        mapped = to_frame(box, window, out_w, out_h)
        share = visible_share(mapped, out_w, out_h)
        if share > 0:
            face_id = photo_index * ID_STRIDE + j + 1
            faces.append(FaceTruth(face_id, mapped, share if scored else 0.0))
    return faces


def render_shot(
    rgb: NDArray[np.uint8], move: CameraMove, frames: int, out_w: int, out_h: int
) -> Iterator[tuple[NDArray[np.uint8], Box]]:
    """The frames of one shot over ``rgb`` and the window each shows."""
    aspect = out_w / out_h
    for i in range(frames):
        window = window_at(move, i / max(frames - 1, 1), i / FPS, aspect)
        sx = out_w / (window[2] - window[0])
        sy = out_h / (window[3] - window[1])
        matrix = np.array([[sx, 0, -window[0] * sx], [0, sy, -window[1] * sy]], np.float64)
        frame = cv2.warpAffine(
            rgb, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        yield frame, window


def _read_rgb(path: Path) -> NDArray[np.uint8]:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def film(
    photos: Sequence[LabelledPhoto],
    seed: int = 0,
    size: tuple[int, int] = OUTPUT_SIZE,
    seconds: float = SHOT_SECONDS,
) -> tuple[Iterator[NDArray[np.uint8]], GroundTruth]:
    """The frames of every photo filmed in turn (lazily), and their ground truth.

    The ground truth is complete as soon as this returns; the frames are
    rendered as they are read, so a long film is never held in memory.
    """
    out_w, out_h = size
    rng = np.random.default_rng(seed)
    per_shot = round(seconds * FPS)
    moves = []
    truth: list[list[FaceTruth]] = []
    sources: dict[int, str] = {}
    for k, photo in enumerate(photos):
        move = plan_move(rng, photo.width, photo.height, out_w / out_h)
        moves.append(move)
        for j, _ in enumerate((*photo.boxes, *photo.ignore)):
            sources[k * ID_STRIDE + j + 1] = photo.name
        for i in range(per_shot):
            window = window_at(move, i / max(per_shot - 1, 1), i / FPS, out_w / out_h)
            truth.append(frame_truth(photo, k, window, out_w, out_h))

    def frames() -> Iterator[NDArray[np.uint8]]:
        for photo, move in zip(photos, moves, strict=True):
            rgb = _read_rgb(photo.path)
            if rgb.shape[:2] != (photo.height, photo.width):
                rgb = cv2.resize(rgb, (photo.width, photo.height), interpolation=cv2.INTER_AREA)
            for frame, _ in render_shot(rgb, move, per_shot, out_w, out_h):
                yield frame

    description = (
        f"{len(photos)} labelled photos filmed by a virtual camera "
        f"({seconds} s each, pan, zoom, shake, hard cuts), seed {seed}"
    )
    gt = GroundTruth("real", out_w, out_h, FPS, truth, sources, description)
    return frames(), gt


def write_film(
    photos: Sequence[LabelledPhoto], folder: Path, name: str = "real", seed: int = 0
) -> tuple[Path, Path]:
    """Films ``photos`` into ``folder/<name>.mp4`` (H.264, CRF 20) and ``<name>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    frames, truth = film(photos, seed)
    truth.name = name
    video = folder / f"{name}.mp4"
    write_video(video, frames, [Fraction(i, FPS) for i in range(len(truth.frames))])
    truth_path = folder / f"{name}.json"
    truth_path.write_text(truth.to_json())
    return video, truth_path
