"""Tracks -> annotations, and annotations -> boxes to redact in each frame.

Times are exact: frame times are :class:`~fractions.Fraction` seconds and
annotations are integer ticks. A time maps to the tick ``floor(t*timescale + 1/2)``
everywhere (writing and lookup alike), so a frame whose time was rounded to a
tick is always found in its own event, and a time within half a tick of an
event boundary belongs to the later event.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from veil.annotations.models import Annotations, Face, Fragment
from veil.types import FaceBox, FaceTrack

COORD_DECIMALS = 5
CONFIDENCE_DECIMALS = 3
# Smallest size written for a box, so a sliver that rounds to 0 stays valid (> 0).
_MIN_SIZE = 10.0**-COORD_DECIMALS


def to_ticks(time: Fraction | int, timescale: int) -> int:
    """``time`` seconds as ticks, rounding half up (the later tick on a tie)."""
    return math.floor(Fraction(time) * timescale + Fraction(1, 2))


@dataclass(frozen=True)
class FrameClock:
    """When each frame of a video is shown, in ticks.

    Attributes:
        timescale: ticks per second. Choose one that makes every frame time a
            whole tick (the stream's time base denominator does), otherwise the
            rounded spacing jitters and fragments get short; lookups stay exact.
        starts: presentation start of each frame, strictly increasing; the
            position is the frame index.
        end: tick where the last frame stops being shown.
    """

    timescale: int
    starts: tuple[int, ...]
    end: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", tuple(int(s) for s in self.starts))
        if self.timescale <= 0:
            raise ValueError(f"timescale must be > 0, got {self.timescale}")
        bounds = (*self.starts, self.end)
        for i in range(1, len(bounds)):
            if bounds[i] <= bounds[i - 1]:
                raise ValueError(
                    f"frame times must increase by at least one tick of 1/{self.timescale} s "
                    f"(position {i}: {bounds[i]} after {bounds[i - 1]})"
                )

    @classmethod
    def from_times(cls, times: Sequence[Fraction], end: Fraction, timescale: int) -> FrameClock:
        """Builds a clock from exact frame times and the end time, in seconds."""
        return cls(
            timescale,
            tuple(to_ticks(t, timescale) for t in times),
            to_ticks(end, timescale),
        )

    def __len__(self) -> int:
        return len(self.starts)

    def durations(self) -> tuple[int, ...]:
        """Ticks each frame is shown: the next start (or ``end``) minus its start."""
        bounds = (*self.starts, self.end)
        return tuple(bounds[i + 1] - bounds[i] for i in range(len(self.starts)))


def _runs(durations: Sequence[int], max_ticks: int) -> Iterator[tuple[int, int, int]]:
    """Splits frames into (first, count, interval) runs of equal spacing.

    A run ends where the spacing changes (so variable frame rate maps exactly)
    or where one more frame would make it longer than ``max_ticks``.
    """
    i = 0
    while i < len(durations):
        interval, count = durations[i], 1
        while (
            i + count < len(durations)
            and durations[i + count] == interval
            and (count + 1) * interval <= max_ticks
        ):
            count += 1
        yield i, count, interval
        i += count


def _track_faces(track: FaceTrack, width: int, height: int) -> Iterator[tuple[int, dict]]:
    """(frame index, face JSON dict) for every usable box of one track."""
    boxes = track.xyxy.astype(np.float64) / np.array([width, height, width, height])
    xs = np.round(boxes[:, 0], COORD_DECIMALS)
    ys = np.round(boxes[:, 1], COORD_DECIMALS)
    ws = np.maximum(np.round(boxes[:, 2] - boxes[:, 0], COORD_DECIMALS), _MIN_SIZE)
    hs = np.maximum(np.round(boxes[:, 3] - boxes[:, 1], COORD_DECIMALS), _MIN_SIZE)
    # Empty or inverted boxes hide nothing and would make an invalid file.
    usable = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    scores = np.round(track.score.astype(np.float64), CONFIDENCE_DECIMALS)
    for k in np.flatnonzero(usable).tolist():
        frame = int(track.frames[k])
        face = {
            "index": frame,
            "id": track.track_id,
            "x": float(xs[k]),
            "y": float(ys[k]),
            "width": float(ws[k]),
            "height": float(hs[k]),
        }
        if track.detected[k]:
            face["confidence"] = float(scores[k])
        yield frame, face


def _faces_by_frame(
    tracks: Sequence[FaceTrack], frames: int, width: int, height: int
) -> dict[int, list[dict]]:
    faces: defaultdict[int, list[dict]] = defaultdict(list)
    for track in tracks:
        for frame, face in _track_faces(track, width, height):
            if not 0 <= frame < frames:
                raise ValueError(
                    f"track {track.track_id} has frame {frame}; the video has {frames}"
                )
            faces[frame].append(face)
    return faces


def tracks_to_annotations(
    tracks: Sequence[FaceTrack],
    clock: FrameClock,
    width: int,
    height: int,
    framerate: float,
    fragment_seconds: float = 2.0,
    candidates: Sequence[FaceTrack] = (),
) -> Annotations:
    """Writes face tracks as Azure-layout annotations covering the whole video.

    Every frame gets exactly one event (``[]`` when it has no face), so the
    result also records the frame timing. Fragments hold frames with equal
    spacing and last at most ``fragment_seconds``; a fragment's ``interval`` is
    that spacing (a lone frame uses its own duration).

    Face fields: ``id`` is the track ID; ``index`` is the video frame index of
    the event (Azure never defined ``index``; the frame index makes hand-editing
    and debugging easy); coordinates are normalised by ``width``/``height`` and
    rounded to 5 decimals; ``confidence`` (3 decimals) only where the box was
    detected rather than interpolated. Faces in an event are sorted by ID.

    Args:
        tracks: face tracks with frame indices into ``clock``.
        clock: timing of every frame of the video.
        width, height: frame size in pixels the track boxes are in.
        framerate: nominal frames per second, stored for information.
        fragment_seconds: longest fragment.
        candidates: face-like spans below the detection threshold, as tracks
            numbered from 1, written to the ``candidates`` extra (not redacted).

    Raises:
        ValueError: a track refers to a frame the clock does not have.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    faces = _faces_by_frame(tracks, len(clock), width, height)
    max_ticks = max(1, round(fragment_seconds * clock.timescale))
    fragments = [
        {
            "start": clock.starts[first],
            "duration": count * interval,
            "interval": interval,
            "events": [
                sorted(faces.get(frame, ()), key=lambda f: f["id"])
                for frame in range(first, first + count)
            ],
        }
        for first, count, interval in _runs(clock.durations(), max_ticks)
    ]
    ids = {face["id"] for frame_faces in faces.values() for face in frame_faces}
    document = {
        "timescale": clock.timescale,
        "offset": 0,
        "framerate": framerate,
        "width": width,
        "height": height,
        "fragments": fragments,
        "facesDetected": len(ids),
    }
    spans = [
        {
            "id": candidate.track_id,
            "boxes": [
                face | {"start": clock.starts[frame]}
                for frame, face in _track_faces(candidate, width, height)
            ],
        }
        for candidate in candidates
    ]
    if any(span["boxes"] for span in spans):
        document["candidates"] = [span for span in spans if span["boxes"]]
    # One validation pass over plain dicts is much faster than building models one by one.
    return Annotations.model_validate(document)


def select_ids(annotations: Annotations, ids: frozenset[int] | None) -> Annotations:
    """The annotations with only the faces whose ID is in ``ids`` (None keeps all).

    Timing is unchanged; ``facesDetected`` counts the IDs that remain.
    """
    if ids is None:
        return annotations

    def keep(fragment: Fragment) -> Fragment:
        if fragment.events is None:
            return fragment
        events = tuple(tuple(face for face in event if face.id in ids) for event in fragment.events)
        return fragment.model_copy(update={"events": events})

    fragments = tuple(keep(f) for f in annotations.fragments)
    return annotations.model_copy(
        update={
            "fragments": fragments,
            "facesDetected": len(ids & annotations.face_ids()),
        }
    )


class AnnotationIndex:
    """Finds the faces to redact at a frame time; built once per render.

    Lookups bisect over the fragment starts, so calling :meth:`faces_at` once
    per frame of a long video costs O(log fragments) each.

    Args:
        annotations: what to look up.
        frame_size: (width, height) in pixels of the frames being redacted, when
            it differs from the size the annotations were made on (e.g. an Azure
            file made on a downscaled proxy). Boxes are normalised, so scaling
            to the real size is exact.
    """

    def __init__(self, annotations: Annotations, frame_size: tuple[int, int] | None = None) -> None:
        self._annotations = annotations
        self._starts = [fragment.start for fragment in annotations.fragments]
        self._width, self._height = frame_size or (annotations.width, annotations.height)
        self._ids: frozenset[int] | None = None

    @property
    def annotations(self) -> Annotations:
        return self._annotations

    def event_at(self, time: Fraction) -> tuple[Face, ...]:
        """The faces of the event covering ``time`` seconds, as stored."""
        a = self._annotations
        tick = to_ticks(time, a.timescale) - a.offset
        i = bisect_right(self._starts, tick) - 1
        if i < 0:
            return ()
        fragment = a.fragments[i]
        if tick >= fragment.end or fragment.events is None or fragment.interval is None:
            return ()
        k = (tick - fragment.start) // fragment.interval
        return fragment.events[k] if k < len(fragment.events) else ()

    def faces_at(self, time: Fraction) -> list[FaceBox]:
        """Boxes in pixels of the frame at ``time`` seconds (not clipped to the frame)."""
        w, h = self._width, self._height
        return [
            FaceBox(
                face.id,
                face.x * w,
                face.y * h,
                (face.x + face.width) * w,
                (face.y + face.height) * h,
            )
            for face in self.event_at(time)
        ]

    def ids(self) -> frozenset[int]:
        """Every face ID in the annotations."""
        if self._ids is None:
            self._ids = self._annotations.face_ids()
        return self._ids


def faces_at(
    annotations: Annotations, time: Fraction, frame_size: tuple[int, int] | None = None
) -> list[FaceBox]:
    """One-off lookup; build an :class:`AnnotationIndex` for many frames."""
    return AnnotationIndex(annotations, frame_size).faces_at(time)
