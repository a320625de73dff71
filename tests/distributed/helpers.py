"""Helpers for segment-parallel redaction: a clip with faces across the seams, the
sequential run's result, a Ray cluster's addresses."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from evaluation.samples import MovingFace, scene

Box = tuple[int, int, int, int]


FPS = 25


FRAMES = 150


GOP = 25


# With 1 s segments the 26-frame context makes the cuts fall at frames 50 and 100.
SEGMENT_SECONDS = 1.0


SEAMS = (50, 100)


FACES = [
    MovingFace(size=110, start=(-60, 60), end=(560, 110)),  # crosses both seams
    MovingFace(size=60, start=(520, 220), end=(80, 180)),
    MovingFace(size=80, start=(300, -250), end=(330, 250)),  # enters near the first seam
]


@dataclass(frozen=True)
class Clip:
    path: Path
    boxes: list[list[Box]]


@dataclass(frozen=True)
class Sequential:
    """``veil combined`` run whole, as a user runs it."""

    video: Path
    annotations: Path
    summary: dict


def write_clip(
    path: Path, frames: int = FRAMES, gop: int = GOP, size: tuple[int, int] = (640, 360)
) -> list[list[Box]]:
    """H.264 with a keyframe every ``gop`` frames and an AAC tone; returns the face boxes.

    ``FACES`` are laid out for 640x360 and scaled to ``size``.
    """
    width, height = size
    k = width / 640
    faces = [
        MovingFace(
            round(f.size * k), (f.start[0] * k, f.start[1] * k), (f.end[0] * k, f.end[1] * k)
        )
        for f in FACES
    ]
    boxes: list[list[Box]] = []
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "18", "preset": "veryfast", "g": str(gop), "sc_threshold": "0"}
        audio = out.add_stream("aac", rate=48000)
        for i in range(frames):
            rgb, frame_boxes = scene(width, height, faces, i / (frames - 1))
            boxes.append(frame_boxes)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        for start in range(0, frames * 48000 // FPS, 1024):
            t = (start + np.arange(1024)) / 48000
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, start
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return boxes


@dataclass(frozen=True)
class RayCluster:
    address: str
    dashboard: str
    logs: Path
