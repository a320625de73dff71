"""Sample media with known faces, for the demo and the tests.

Faces come from ``skimage.data.astronaut()`` (a NASA photo, public domain),
composited onto a textured background that moves, so every face box is known
exactly. Needs scikit-image (the ``test`` extra).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.media import EncoderSettings, write_video

# The astronaut's face in skimage.data.astronaut(), as both detectors find it.
_HEAD_CROP = (140, 20, 310, 220)  # x0, y0, x1, y1 around the head
_FACE_IN_CROP = (40, 37, 131, 158)  # the face box inside that crop


@dataclass(frozen=True)
class MovingFace:
    """A face pasted at ``size`` px height, moving linearly from ``start`` to ``end`` (xy)."""

    size: int
    start: tuple[float, float]
    end: tuple[float, float]


@functools.lru_cache(maxsize=32)
def head_patch(face_height: int) -> tuple[NDArray[np.uint8], tuple[int, int, int, int]]:
    """The astronaut's head scaled so the face is ``face_height`` px; and its face box."""
    from skimage import data

    x0, y0, x1, y1 = _HEAD_CROP
    crop = data.astronaut()[y0:y1, x0:x1]
    scale = face_height / (_FACE_IN_CROP[3] - _FACE_IN_CROP[1])
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    patch = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    face = tuple(round(v * scale) for v in _FACE_IN_CROP)
    return patch, face  # type: ignore[return-value]


def background(width: int, height: int, shift: float, seed: int = 7) -> NDArray[np.uint8]:
    """A smooth colourful texture, shifted sideways by ``shift`` px (camera pan)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 215, size=(9, 17, 3), dtype=np.uint8)
    big = cv2.resize(coarse, (width * 2, height), interpolation=cv2.INTER_CUBIC)
    offset = int(shift) % width
    return np.ascontiguousarray(big[:, offset : offset + width])


def scene(
    width: int, height: int, faces: list[MovingFace], t: float
) -> tuple[NDArray[np.uint8], list[tuple[int, int, int, int]]]:
    """Frame at progress ``t`` in 0..1 and the face boxes (xyxy px) in it."""
    frame = background(width, height, shift=40 * t)
    boxes = []
    for face in faces:
        patch, (fx0, fy0, fx1, fy1) = head_patch(face.size)
        x = round(face.start[0] + (face.end[0] - face.start[0]) * t)
        y = round(face.start[1] + (face.end[1] - face.start[1]) * t)
        ph, pw = patch.shape[:2]
        # paste clipped to the frame
        sx0, sy0 = max(x, 0), max(y, 0)
        sx1, sy1 = min(x + pw, width), min(y + ph, height)
        if sx1 > sx0 and sy1 > sy0:
            frame[sy0:sy1, sx0:sx1] = patch[sy0 - y : sy1 - y, sx0 - x : sx1 - x]
        boxes.append((x + fx0, y + fy0, x + fx1, y + fy1))
    return frame, boxes


DEFAULT_FACES = [
    MovingFace(size=110, start=(40, 60), end=(260, 90)),
    MovingFace(size=60, start=(520, 200), end=(420, 180)),
]


def make_sample_video(
    path: Path,
    width: int = 640,
    height: int = 360,
    frames: int = 48,
    fps: int = 24,
    faces: list[MovingFace] | None = None,
    times: list[Fraction] | None = None,
    rotation: int = 0,
    audio: bool = True,
    settings: EncoderSettings = EncoderSettings(),
    audio_codec: str = "aac",
) -> list[list[tuple[int, int, int, int]]]:
    """Write a video of moving faces; returns each frame's face boxes (stored orientation)."""
    faces = DEFAULT_FACES if faces is None else faces
    times = times or [Fraction(i, fps) for i in range(frames)]
    boxes: list[list[tuple[int, int, int, int]]] = []

    def frames_and_boxes():
        # rendered one at a time, so long samples need no memory per frame
        for i in range(len(times)):
            frame, frame_boxes = scene(width, height, faces, i / max(len(times) - 1, 1))
            boxes.append(frame_boxes)
            yield frame

    write_video(
        path,
        frames_and_boxes(),
        times,
        rotation,
        audio_hz=440.0 if audio else None,
        settings=settings,
        audio_codec=audio_codec,
    )
    return boxes
