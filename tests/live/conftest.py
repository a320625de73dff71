"""Live sources for the tests: a generated clip replayed by Debian's ffmpeg over HTTP, or
published to a small RTSP relay (tests/live/rtsp_relay.py); ``veil live`` runs as a process."""

from __future__ import annotations

import av
import pytest

from evaluation.samples import make_sample_video
from live.helpers import FACES, FPS, HEIGHT, WIDTH, Clip


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    path = tmp_path_factory.mktemp("live") / "clip.mp4"
    boxes = make_sample_video(
        path, width=WIDTH, height=HEIGHT, frames=4 * FPS, fps=FPS, faces=FACES, audio=False
    )
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return Clip(path, boxes, frames)
