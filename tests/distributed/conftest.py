"""Fixtures for segment-parallel redaction: a clip with faces across the seams, the
sequential ``veil combined`` result to compare with, and a real two-node Ray cluster
on 127.0.0.1 (``veil.distributed.loopback``: ``ray start --head`` and a second node
joining with ``ray start --address``, stopped by signalling them, never ``ray stop``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import run_veil
from evaluation.samples import MovingFace, scene
from veil.distributed.loopback import LoopbackCluster, loopback_environment

# before anything imports ray: every Ray address stays on loopback
loopback_environment()

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


@pytest.fixture(scope="session")
def seam_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    path = tmp_path_factory.mktemp("distributed") / "seams.mp4"
    return Clip(path, write_clip(path))


@pytest.fixture(scope="session")
def sequential(seam_clip: Clip, tmp_path_factory: pytest.TempPathFactory) -> Sequential:
    out = tmp_path_factory.mktemp("sequential") / "seams_redacted.mp4"
    result = run_veil("combined", seam_clip.path, "-o", out, "--annotations-out", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["results"][0]
    return Sequential(out, out.parent / "seams_annotations.json", summary)


# -- a real Ray cluster on loopback -------------------------------------------------


@dataclass(frozen=True)
class RayCluster:
    address: str
    dashboard: str
    logs: Path


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A head node and a second node joining it (``ray start --address``), 1 CPU each."""
    ray = pytest.importorskip("ray")
    with LoopbackCluster(cpus=[1, 1]) as cluster:
        try:
            ray.init(address=cluster.address, namespace="veil", log_to_driver=False)
            cluster.wait_for_nodes(ray)
            yield RayCluster(cluster.address, cluster.dashboard_url, cluster.logs)
        finally:
            ray.shutdown()
