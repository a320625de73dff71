"""The streaming pipeline decides exactly what a simple sequential reference decides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.samples import MovingFace, make_sample_video
from veil.detect import DetectorConfig, load_detector
from veil.media import probe, read_pictures
from veil.media.held import HELD_BYTES
from veil.media.orientation import UprightPicture
from veil.pipeline.config import PipelineConfig, SmallFacePass
from veil.pipeline.faces import FaceFinder, TrackRecorder
from veil.pipeline.render import TrackedRedaction, redact_picture
from veil.pipeline.search import backtrack_limit, track_frame
from veil.redact import RedactionConfig
from veil.track import FaceTracker, TrackerConfig
from veil.types import FaceBox


def _reference(path: Path, detect_every: int) -> list[np.ndarray]:
    """Decode everything, detect, track to the end, then redact each frame: no look-ahead."""
    config = DetectorConfig()
    detector = load_detector(config)
    info = probe(path)
    pictures = list(read_pictures(path))
    tracker = FaceTracker(TrackerConfig(), stride=detect_every)
    # the enlarged pass comes round as far apart as the backward search reaches
    enlarged_every = backtrack_limit(tracker) // detect_every * detect_every
    for picture in pictures[::detect_every]:
        small = picture.rgb(config.input_size)
        if picture.index % enlarged_every == 0:
            detections = detector.detect(small, upscale=SmallFacePass().upscale)
        else:
            detections = detector.detect(small)
        scale = picture.width / small.shape[1]
        track_frame(
            detector,
            tracker,
            picture.index,
            detections.scaled(scale) if scale != 1 else detections,
            lambda index: UprightPicture(pictures[index], 0) if index >= 0 else None,
        )
    tracker.close()
    frames = []
    for picture in pictures:
        faces = [FaceBox(f.track_id, *f.xyxy) for f in tracker.faces_at(picture.index)]
        frames.append(redact_picture(picture, faces, info, RedactionConfig()).frame.to_ndarray())
    return frames


def _streamed(path: Path, detect_every: int, held_bytes: int) -> list[np.ndarray]:
    config = PipelineConfig(detect_every=detect_every)
    info = probe(path)
    finder = FaceFinder(load_detector(config.detector), config, info, held_bytes=held_bytes)
    processor = TrackedRedaction(finder, TrackRecorder(info), RedactionConfig())
    frames = []
    for picture in read_pictures(path):
        frames.extend(p.frame.to_ndarray() for p in processor.push(picture))
    frames.extend(p.frame.to_ndarray() for p in processor.flush())
    return frames


# held_bytes=0 parks all but the two newest held frames in the temporary file
@pytest.mark.parametrize(("detect_every", "held_bytes"), [(1, HELD_BYTES), (3, HELD_BYTES), (3, 0)])
def test_streamed_redaction_equals_the_sequential_reference(
    tmp_path: Path, detect_every: int, held_bytes: int
):
    clip = tmp_path / "clip.mp4"
    # a face that enters late and one that leaves early exercise the look-ahead,
    # and one too small for the downscaled pass the enlarged pass
    faces = [
        MovingFace(size=70, start=(-120, 80), end=(300, 100)),
        MovingFace(size=50, start=(500, 200), end=(700, 180)),
        MovingFace(size=14, start=(200, 300), end=(260, 290)),
    ]
    make_sample_video(clip, frames=45, faces=faces, audio=False)
    streamed = _streamed(clip, detect_every, held_bytes)
    reference = _reference(clip, detect_every)
    assert len(streamed) == len(reference) == 45
    for index, (a, b) in enumerate(zip(streamed, reference, strict=True)):
        assert np.array_equal(a, b), f"frame {index} differs"
