"""Analysis: decode -> detect -> track -> annotations (+ one thumbnail per face)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from veil.annotations import Annotations, FrameClock, tracks_to_annotations
from veil.detect import FaceDetector
from veil.errors import InputError
from veil.media import DecodeReport, probe, read_frames, read_image
from veil.media.orientation import to_upright, upright_size
from veil.pipeline.thumbnails import ThumbnailPicker
from veil.track import FaceTracker, TrackerConfig
from veil.types import DecodedFrame, MediaInfo

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything analysis produced for one input."""

    annotations: Annotations
    thumbnails: dict[int, NDArray[np.uint8]]
    report: DecodeReport


def timescale_for(time_base: Fraction) -> int:
    """Ticks per second that make every frame time whole (Azure used 24000/30000-style)."""
    return time_base.denominator if time_base.numerator == 1 else 90000


def analyze_frames(
    frames: Iterable[DecodedFrame],
    info: MediaInfo,
    detector: FaceDetector,
    tracker_config: TrackerConfig,
    report: DecodeReport,
    source: Path,
    on_frame: ProgressCallback | None = None,
) -> Analysis:
    """Detect and track faces over ``frames`` (upright coordinates in the result)."""
    tracker = FaceTracker(tracker_config)
    thumbnails = ThumbnailPicker()
    times: list[Fraction] = []
    for frame in frames:
        upright = to_upright(frame.rgb, info.rotation)
        detections = detector.detect(upright)
        ids = tracker.update(frame.index, detections)
        thumbnails.offer(upright, detections, ids)
        times.append(frame.time)
        if on_frame is not None:
            on_frame(frame.index + 1)
    result = tracker.finish(len(times))
    width, height = upright_size(info.width, info.height, info.rotation)
    timescale = timescale_for(info.time_base)
    end = times[-1] + 1 / info.frame_rate if times else Fraction(0)
    try:
        clock = FrameClock.from_times(times, end, timescale)
    except ValueError as exc:
        raise InputError(source, f"frame timestamps are broken ({exc})") from exc
    annotations = tracks_to_annotations(
        result.tracks, clock, width, height, framerate=float(info.frame_rate)
    )
    return Analysis(annotations, thumbnails.best_per_track(result.id_of_tracklet), report)


def analyze_video(
    path: Path,
    detector: FaceDetector,
    tracker_config: TrackerConfig = TrackerConfig(),
    on_frame: ProgressCallback | None = None,
) -> Analysis:
    report = DecodeReport()
    info = probe(path)
    frames = read_frames(path, report)
    return analyze_frames(frames, info, detector, tracker_config, report, path, on_frame)


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
        is_image=True,
    )


def analyze_image(path: Path, detector: FaceDetector) -> Analysis:
    rgb = read_image(path)
    report = DecodeReport(frames=1)
    frames = [DecodedFrame(0, Fraction(0), rgb)]
    # a single frame needs no track padding
    config = TrackerConfig(pad_frames=0)
    return analyze_frames(frames, image_info(rgb), detector, config, report, path)
