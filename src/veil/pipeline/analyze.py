"""Analysis: decode -> detect -> track -> annotations (+ one thumbnail per face)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from veil.annotations import Annotations
from veil.detect import FaceDetector
from veil.media import DecodeReport, probe, read_image, read_pictures
from veil.pipeline.config import PipelineConfig, SmallFacePass
from veil.pipeline.faces import FaceFinder, SettledFrame, TrackRecorder
from veil.pipeline.thumbnails import ThumbnailPicker
from veil.track import FaceTracker, TrackerConfig
from veil.track.identities import EvidenceLog, assess
from veil.types import MediaInfo

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything analysis produced for one input."""

    annotations: Annotations
    thumbnails: dict[int, NDArray[np.uint8]]
    report: DecodeReport


def analyze_video(
    path: Path,
    detector: FaceDetector,
    config: PipelineConfig = PipelineConfig(),
    on_frame: ProgressCallback | None = None,
) -> Analysis:
    """Find and track every face of a video (upright coordinates in the result)."""
    info = probe(path)
    report = DecodeReport()
    thumbnails = ThumbnailPicker()
    finder = FaceFinder(detector, config, info, thumbnails)
    recorder = TrackRecorder(info)

    def record(settled_frames: Iterable[SettledFrame]) -> None:
        for settled in settled_frames:
            recorder.add(settled.picture.index, settled.picture.time, settled.faces)

    for picture in read_pictures(path, report, config.hwaccel):
        record(finder.push(picture))
        if on_frame is not None:
            on_frame(report.frames)
    record(finder.flush())
    identities = finder.identities()
    annotations = recorder.annotations(str(path), identities, finder.candidates())
    return Analysis(annotations, thumbnails.best(identities.final), report)


def image_info(rgb: NDArray[np.uint8]) -> MediaInfo:
    """An image as a one-frame video shown for one second."""
    height, width = rgb.shape[:2]
    return MediaInfo(
        width=width,
        height=height,
        frame_rate=Fraction(1),
        time_base=Fraction(1, 1000),
        frame_count=1,
        duration=Fraction(1),
        rotation=0,
    )


def analyze_image(
    path: Path, detector: FaceDetector, small_faces: SmallFacePass = SmallFacePass()
) -> Analysis:
    """Faces of a still image, as a one-frame video (upright, EXIF orientation applied).

    A photo is one frame: it always gets the enlarged pass for small faces
    (unless that is off), since nothing can follow a face into it.
    """
    rgb = read_image(path)
    enlarge = small_faces.upscale if small_faces.upscale > 1 else None
    detections = detector.detect(rgb, upscale=enlarge)
    # a single frame needs no padding in time
    tracker = FaceTracker(TrackerConfig(pad_frames=0))
    ids = tracker.update(0, detections)
    tracker.close()
    thumbnails = ThumbnailPicker()
    thumbnails.offer(rgb, 1.0, lambda: rgb, detections, ids)
    info = image_info(rgb)
    recorder = TrackRecorder(info)
    faces = tracker.faces_at(0)
    recorder.add(0, Fraction(0), faces)
    evidence = EvidenceLog(info.width, info.height)
    evidence.add(0, faces)
    identities = assess(evidence)
    annotations = recorder.annotations(str(path), identities)
    return Analysis(annotations, thumbnails.best(identities.final), DecodeReport(frames=1))
