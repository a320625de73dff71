"""Searching near known faces: backwards for a new face, forwards for a lost one.

A detector finds a face some frames after it becomes visible (small, dark,
turned away, or simply between two detection frames), and loses it again
before it is gone. When a track is born, the frames still held in the
look-ahead are searched backwards, one by one, in a small window around the
face, enlarged so the face is comfortably big for the model; the search stops
after a few frames without a match. When a live track goes undetected on a
detection frame, the same window around its predicted place is searched on
that frame. Both searches accept weaker answers than the whole-frame pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.detect import FaceDetector
from veil.geometry import box_iou
from veil.track import FaceTracker
from veil.types import Detections

# The window around the face, in face sizes, and the size the face is brought to.
_WINDOW = 3.0
_FACE_PX = 80
_MAX_ENLARGE = 4.0
_MIN_IOU = 0.3
# Next to a face already found, a weak answer is much more likely a face than
# anywhere else in the frame: search with a lower bar than the detector's own.
_SEARCH_THRESHOLD = 0.05
# A find near a lost face this confident is as good as the whole-frame
# detector's: the face is enlarged in the window, so tiny faces that the
# whole-frame pass only catches now and then score high here.
_SURE_SCORE = 0.5
# Frames in a row the backward search may miss (a dark face flickers in and out
# of the detector's reach) before it stops; the missed ones are interpolated.
_MAX_MISSES = 2


class SearchFrame(Protocol):
    """A frame the searches look into: its upright size and RGB copies of regions of it.

    Only the small window around a face is converted, not the whole frame.
    """

    width: int
    height: int

    def rgb(self, x0: int, y0: int, x1: int, y1: int) -> NDArray[np.uint8]: ...


def search_window(
    frame: SearchFrame, box: tuple[float, float, float, float]
) -> tuple[NDArray[np.uint8], float, float, float]:
    """The region around ``box``, the face resized to about ``_FACE_PX``: (crop, x0, y0, scale)."""
    width, height = frame.width, frame.height
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    size = max(box[2] - box[0], box[3] - box[1], 1.0)
    half = size * _WINDOW / 2
    x0, y0 = max(int(cx - half), 0), max(int(cy - half), 0)
    x1, y1 = min(int(np.ceil(cx + half)), width), min(int(np.ceil(cy + half)), height)
    scale = min(max(_FACE_PX / size, 1.0), _MAX_ENLARGE)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 0, 3), np.uint8), x0, y0, scale
    crop = frame.rgb(x0, y0, x1, y1)
    if scale != 1.0 and crop.size:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    return crop, x0, y0, scale


def find_near(
    detector: FaceDetector,
    frame: SearchFrame,
    box: tuple[float, float, float, float],
    taken: NDArray[np.float32] | None = None,
) -> tuple[NDArray[np.float32], float] | None:
    """The detection in ``frame`` that best overlaps ``box``, or None.

    Detections overlapping a ``taken`` box (another face's) are not answers.
    """
    crop, x0, y0, scale = search_window(frame, box)
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return None
    found: Detections = detector.detect(np.ascontiguousarray(crop), threshold=_SEARCH_THRESHOLD)
    if len(found) == 0:
        return None
    boxes = found.xyxy / scale + np.array([x0, y0, x0, y0], np.float32)
    overlap = box_iou(np.array([box], np.float32), boxes)[0]
    if taken is not None and len(taken):
        overlap[box_iou(boxes, taken).max(axis=1) >= _MIN_IOU] = 0.0
    best = int(np.argmax(overlap))
    if overlap[best] < _MIN_IOU:
        return None
    return boxes[best], float(found.score[best])


def backtrack_limit(tracker: FaceTracker) -> int:
    """How far back a new track may be searched while its frames are still held.

    The track is also padded before its first detection, and those frames
    must not have been released either.
    """
    return max(tracker.lookahead - tracker.pad, 0)


def extend_backwards(
    detector: FaceDetector,
    tracker: FaceTracker,
    track_id: int,
    frame: int,
    held_frame: Callable[[int], SearchFrame | None],
    max_frames: int,
) -> int:
    """Search frames ``frame - 1``, ``frame - 2``... for a newborn track; returns frames added.

    ``held_frame(index)`` gives a held frame, or None when that frame is no
    longer held.
    """
    box = tracker.box(track_id, frame)
    added = misses = 0
    for index in range(frame - 1, frame - 1 - max_frames, -1):
        held = held_frame(index)
        if held is None:
            break
        match = find_near(detector, held, box)
        if match is None:
            misses += 1
            if misses > _MAX_MISSES:
                break
            continue
        tracker.extend_back(track_id, index, match[0], match[1])
        box = tuple(float(v) for v in match[0])  # type: ignore[assignment]
        added += 1
        misses = 0
    return added


def follow_lost(
    detector: FaceDetector,
    tracker: FaceTracker,
    frame: int,
    picture: SearchFrame,
    detections: Detections,
) -> int:
    """Search ``picture`` (frame ``frame``) near each track the detector just lost.

    Returns how many were found.
    """
    found = 0
    for track_id, box in tracker.lost_at(frame):
        match = find_near(detector, picture, box, taken=detections.xyxy)
        if match is not None:
            last = tracker.last_box(track_id)
            box, score = at_least_as_big(match[0], last), match[1]
            tracker.extend_forward(track_id, frame, box, score, sure=score >= _SURE_SCORE)
            found += 1
    return found


def at_least_as_big(
    box: NDArray[np.float32], reference: tuple[float, float, float, float]
) -> NDArray[np.float32]:
    """``box`` grown about its centre to at least the size of ``reference``.

    A weak answer near a lost face (blurred, dark) often covers only part of
    it: it says where the face is, not that the face shrank.
    """
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w = max(box[2] - box[0], reference[2] - reference[0]) / 2
    half_h = max(box[3] - box[1], reference[3] - reference[1]) / 2
    return np.array([cx - half_w, cy - half_h, cx + half_w, cy + half_h], np.float32)


def track_frame(
    detector: FaceDetector,
    tracker: FaceTracker,
    frame: int,
    detections: Detections,
    held_frame: Callable[[int], SearchFrame | None],
    looks: NDArray[np.float32] | None = None,
) -> NDArray[np.int64]:
    """Give one detection frame to the tracker, then search near new and lost faces.

    Returns the track ID of each detection. ``held_frame(index)`` gives a held
    frame (``frame`` itself included), or None; ``looks`` what each detection
    looks like, for the tracker.
    """
    ids = tracker.update(frame, detections, looks)
    for track_id in ids.tolist():
        if tracker.born_at(frame, track_id):
            extend_backwards(
                detector, tracker, track_id, frame, held_frame, backtrack_limit(tracker)
            )
    current = held_frame(frame)
    if current is not None:
        follow_lost(detector, tracker, frame, current, detections)
    return ids
