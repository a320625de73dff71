"""Helpers for the live tests: ffmpeg serving or publishing a clip, ``veil live`` as a
process, reading and checking what it wrote."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from evaluation.samples import MovingFace
from helpers import Box, region_diff, shrink

FPS = 24


WIDTH, HEIGHT = 320, 180


FACES = [MovingFace(size=70, start=(10, 15), end=(170, 35))]


needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None,
    reason="needs Debian's ffmpeg to serve live streams (apt-get install -y ffmpeg)",
)


@dataclass(frozen=True)
class Clip:
    path: Path
    boxes: list[list[Box]]
    frames: list[np.ndarray]  # the original pictures, decoded


def serve_http(clip: Path, port: int) -> subprocess.Popen:
    """ffmpeg plays ``clip`` at its rate as MPEG-TS to the first HTTP client."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", str(clip), "-c", "copy",
         "-f", "mpegts", "-listen", "1", f"http://127.0.0.1:{port}/live.ts"],
    )  # fmt: skip


def publish_rtsp(clip: Path, url: str) -> subprocess.Popen:
    """ffmpeg publishes ``clip`` at its rate, keyframes every half second (players join late)."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", str(clip), "-an",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", str(FPS // 2),
         "-f", "rtsp", "-rtsp_transport", "tcp", url],
    )  # fmt: skip


def start_live(*args: str | Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "veil", "live", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_live(proc: subprocess.Popen, timeout: float = 30) -> tuple[int, dict, str]:
    """SIGINT (as Ctrl-C), then the exit code, the --json statistics and stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    stats = json.loads(out) if out.strip() else {}
    return proc.returncode, stats, err


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def read_video(path: Path) -> tuple[list[np.ndarray], list[float]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, times = [], []
        for f in container.decode(stream):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(float(f.pts * stream.time_base))
    return frames, times


def source_index(frame: np.ndarray, clip: Clip) -> int:
    """The clip frame an output frame shows (best match away from the faces)."""
    small = frame[::4, ::4].astype(np.int16)
    diffs = []
    for original, boxes in zip(clip.frames, clip.boxes, strict=True):
        mask = np.ones(original.shape[:2], bool)
        for x0, y0, x1, y1 in boxes:
            mask[max(0, y0 - 20) : y1 + 20, max(0, x0 - 20) : x1 + 20] = False
        d = np.abs(small - original[::4, ::4].astype(np.int16)).mean(axis=2)
        diffs.append(float(d[mask[::4, ::4]].mean()))
    return int(np.argmin(diffs))


def assert_faces_hidden(frames: list[np.ndarray], clip: Clip, min_diff: float = 12.0) -> int:
    """Every output frame's faces (fully in view) differ clearly from the original's.

    Returns how many face views were checked.
    """
    checked = 0
    for n, frame in enumerate(frames):
        k = source_index(frame, clip)
        for box in clip.boxes[k]:
            x0, y0, x1, y1 = box
            if x0 < 0 or y0 < 0 or x1 > WIDTH or y1 > HEIGHT:
                continue
            core = shrink(box)
            diff = region_diff(frame, clip.frames[k], core)
            assert diff > min_diff, (
                f"output frame {n} (source {k}): face {box} visible ({diff:.1f})"
            )
            checked += 1
    return checked


def frame_rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0])
