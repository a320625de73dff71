"""The work one segment needs, as plain functions an executor can run anywhere.

Both take only picklable values (paths, frozen configs, tuples of ints) and
return small ones, so the same function runs in-process, in a local process
pool or as a Ray task. The detector is loaded once per worker process.
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from veil.detect import DetectorConfig, FaceDetector, load_detector
from veil.distributed.plan import Segment
from veil.errors import VeilError
from veil.media import EncoderSettings
from veil.media.orientation import upright_size
from veil.media.segments import RangeReport, SegmentWriter, read_range
from veil.pipeline import PipelineConfig
from veil.pipeline.faces import FaceFinder, SettledFrame
from veil.pipeline.render import redact_picture
from veil.redact import RedactionConfig
from veil.track import FaceTracker, TrackerConfig, appearance
from veil.types import Detections, FaceBox, MediaInfo


@dataclass(frozen=True)
class SegmentSource:
    """Where a segment's frames are: the file, their global indices and timestamps.

    Attributes:
        path: the input; every worker must be able to open it (same path).
        first: global index of ``pts[0]``.
        pts: timestamps of the frames to decode, in presentation order.
        seek_pts: timestamp of the keyframe the decoder starts at.
    """

    path: Path
    first: int
    pts: tuple[int, ...]
    seek_pts: int


@dataclass(frozen=True, eq=False)
class SegmentFaces:
    """Every face box one segment's tracker settled over its window (one row each).

    Attributes:
        segment: which segment this is.
        frame, track: global frame index and the segment's own track ID per row.
        xyxy: (N, 4) upright pixel boxes.
        detected, score: whether the box was detected on that frame, and how surely.
        column: the detection's position in its frame's detections (-1 if not detected).
        looks: (N, appearance.SIZE) what the face looked like where the tracker
            learnt it (NaN rows elsewhere), for joining tracks after stitching.
        reliable_until: frames before this have the boxes a whole-video run gives;
            later ones were settled early because the window ends there.
        damaged_frames: global indices of frames the decoder marked corrupt.
        seconds: time the task took.
    """

    segment: Segment
    frame: NDArray[np.int64]
    track: NDArray[np.int64]
    xyxy: NDArray[np.float32]
    detected: NDArray[np.bool_]
    score: NDArray[np.float32]
    column: NDArray[np.int64]
    looks: NDArray[np.float32]
    reliable_until: int
    damaged_frames: tuple[int, ...]
    seconds: float


@dataclass(frozen=True)
class RenderedSegment:
    """One segment encoded on its own: an MP4 holding only its video."""

    segment: Segment
    data: bytes
    frames: int
    damaged_frames: tuple[int, ...]
    seconds: float


@functools.lru_cache(maxsize=2)
def _detector(config: DetectorConfig) -> FaceDetector:
    # one model per worker process, reused by every task it runs
    return load_detector(config)


class _ColumnTracker(FaceTracker):
    """The pipeline's tracker, also noting which detection of a frame each track took."""

    def __init__(self, config: TrackerConfig, stride: int, frame_size: tuple[int, int]) -> None:
        super().__init__(config, stride=stride, frame_size=frame_size)
        self.columns: dict[tuple[int, int], int] = {}

    def update(
        self, frame: int, detections: Detections, looks: NDArray[np.float32] | None = None
    ) -> NDArray[np.int64]:
        ids = super().update(frame, detections, looks)
        for column, track_id in enumerate(ids.tolist()):
            self.columns[(frame, track_id)] = column
        return ids


def analyze_segment(
    source: SegmentSource,
    segment: Segment,
    info: MediaInfo,
    config: PipelineConfig,
    video_frames: int,
) -> SegmentFaces:
    """Detect and track faces over the segment's window, exactly as ``combined`` does.

    The frames get their global indices, so detection runs on the same
    ``detect_every`` grid as a whole-video run; the window's tracker starts
    empty at ``window_start`` and is closed at ``window_stop``.
    """
    started = time.perf_counter()
    size = upright_size(info.width, info.height, info.rotation)
    tracker = _ColumnTracker(config.tracker, max(1, config.detect_every), size)
    finder = FaceFinder(_detector(config.detector), config, info, tracker=tracker)
    rows: list[tuple] = []
    looks: list[NDArray[np.float32]] = []
    unknown = np.full(appearance.SIZE, np.nan, np.float32)

    def record(settled: SettledFrame) -> None:
        index = settled.picture.index
        for face in settled.faces:
            column = tracker.columns.get((index, face.track_id), -1) if face.detected else -1
            rows.append((index, face.track_id, *face.xyxy, face.detected, face.score, column))
            looks.append(unknown if face.look is None else face.look)
        # the columns of released frames are no longer needed
        for key in [k for k in tracker.columns if k[0] == index]:
            del tracker.columns[key]

    report = RangeReport()
    pictures = read_range(source.path, source.first, source.pts, source.seek_pts, report)
    for picture in pictures:
        for settled in finder.push(picture):
            record(settled)
    for settled in finder.flush():
        record(settled)
    table = np.array(rows, np.float64).reshape(-1, 9)
    at_end = segment.window_stop == video_frames
    return SegmentFaces(
        segment=segment,
        frame=table[:, 0].astype(np.int64),
        track=table[:, 1].astype(np.int64),
        xyxy=np.array([r[2:6] for r in rows], np.float32).reshape(-1, 4),
        detected=table[:, 6].astype(bool),
        score=np.array([r[7] for r in rows], np.float32),
        column=table[:, 8].astype(np.int64),
        looks=np.array(looks, np.float32).reshape(-1, appearance.SIZE),
        reliable_until=segment.window_stop if at_end else segment.window_stop - tracker.lookahead,
        damaged_frames=tuple(i for i in report.damaged_frames if segment.start <= i < segment.stop),
        seconds=time.perf_counter() - started,
    )


def render_segment(
    source: SegmentSource,
    segment: Segment,
    info: MediaInfo,
    faces: Sequence[Sequence[FaceBox]],
    redaction: RedactionConfig,
    encoder: EncoderSettings,
) -> RenderedSegment:
    """Decode the segment's own frames, hide ``faces`` (one list per frame), encode them."""
    started = time.perf_counter()
    if len(faces) != segment.frames or len(source.pts) != segment.frames:
        raise VeilError(f"internal: segment {segment.number} got faces for the wrong frames")
    report = RangeReport()
    with tempfile.TemporaryDirectory(prefix="veil-part-") as tmp:
        path = Path(tmp) / f"part{segment.number:05d}.mp4"
        with SegmentWriter(path, info, encoder) as writer:
            pictures = read_range(source.path, source.first, source.pts, source.seek_pts, report)
            for picture in pictures:
                boxes = faces[picture.index - segment.start]
                writer.write(redact_picture(picture, boxes, info, redaction))
        if writer.count != segment.frames:
            raise VeilError(
                f"internal: segment {segment.number}: {writer.count} of {segment.frames} "
                "frames encoded"
            )
        data = path.read_bytes()
    return RenderedSegment(
        segment=segment,
        data=data,
        frames=writer.count,
        damaged_frames=tuple(report.damaged_frames),
        seconds=time.perf_counter() - started,
    )
