"""A new face is searched for backwards, so it is covered before it was first detected."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.samples import MovingFace, scene
from pipeline.helpers import ArrayFrame
from veil.detect import DetectorConfig, load_detector
from veil.pipeline.search import extend_backwards, follow_lost
from veil.track import FaceTracker, TrackerConfig
from veil.types import Detections


def test_search_backwards_follows_a_face_to_where_it_was_smaller():
    # a face approaching the camera: 16 px tall at frame 0, 56 px at frame 10
    frames, truth = [], []
    for index in range(11):
        size = 16 + 4 * index
        frame, boxes = scene(640, 360, [MovingFace(size, (300, 150), (300, 150))], 0.0)
        frames.append(frame)
        truth.append(boxes[0])
    detector = load_detector(DetectorConfig())
    tracker = FaceTracker(TrackerConfig(pad_frames=0))
    tracker.update(10, Detections(np.array([truth[10]], np.float32), np.array([0.99])))
    added = extend_backwards(
        detector, tracker, 1, 10, lambda i: ArrayFrame(frames[i]) if i >= 0 else None, 20
    )
    assert added >= 6  # back to a face of about 28 px or smaller
    tracker.close()
    for index in range(10 - added, 10):
        (face,) = tracker.faces_at(index)
        iou_x = min(face.xyxy[2], truth[index][2]) - max(face.xyxy[0], truth[index][0])
        assert face.detected and iou_x > 0


def test_search_backwards_stops_where_the_face_is_not():
    empty = np.full((360, 640, 3), 90, np.uint8)
    frame, boxes = scene(640, 360, [MovingFace(60, (300, 150), (300, 150))], 0.0)
    frames = [empty] * 5 + [frame]
    detector = load_detector(DetectorConfig())
    tracker = FaceTracker(TrackerConfig(pad_frames=0))
    tracker.update(5, Detections(np.array([boxes[0]], np.float32), np.array([0.99])))
    assert extend_backwards(detector, tracker, 1, 5, lambda i: ArrayFrame(frames[i]), 5) == 0


def _faces_walking(frames: int, size: int = 60) -> tuple[list[np.ndarray], list[tuple]]:
    pictures, truth = [], []
    for index in range(frames):
        x = 200 + 6 * index
        frame, boxes = scene(640, 360, [MovingFace(size, (x, 150), (x, 150))], 0.0)
        pictures.append(frame)
        truth.append(boxes[0])
    return pictures, truth


def test_search_backwards_goes_on_past_a_frame_where_the_face_is_hidden():
    pictures, truth = _faces_walking(11)
    pictures[7] = np.full_like(pictures[7], 90)  # one frame without the face (a flash, a cut)
    detector = load_detector(DetectorConfig())
    tracker = FaceTracker(TrackerConfig(pad_frames=0))
    tracker.update(10, Detections(np.array([truth[10]], np.float32), np.array([0.99])))
    added = extend_backwards(
        detector, tracker, 1, 10, lambda i: ArrayFrame(pictures[i]) if i >= 0 else None, 9
    )
    assert added == 8  # every frame 1..9 but the empty one
    tracker.close()
    assert tracker.faces_at(1)[0].detected


def _lost_on_frame_1(truth: list[tuple]) -> FaceTracker:
    tracker = FaceTracker(TrackerConfig(pad_frames=2))
    tracker.update(0, Detections(np.array([truth[0]], np.float32), np.array([0.99])))
    tracker.update(1, _NONE)
    return tracker


_NONE = Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))


def test_a_face_the_detector_loses_is_found_near_where_it_was():
    pictures, truth = _faces_walking(3)
    tracker = _lost_on_frame_1(truth)
    detector = load_detector(DetectorConfig())
    assert follow_lost(detector, tracker, 1, ArrayFrame(pictures[1]), _NONE) == 1
    tracker.close()
    (face,) = tracker.faces_at(1)
    assert face.detected
    assert face.xyxy[0] == pytest.approx(truth[1][0], abs=8)


def test_a_face_another_track_holds_is_not_taken_by_the_search():
    pictures, truth = _faces_walking(3)
    tracker = _lost_on_frame_1(truth)
    detector = load_detector(DetectorConfig())
    other = Detections(np.array([truth[1]], np.float32), np.array([0.9], np.float32))
    assert follow_lost(detector, tracker, 1, ArrayFrame(pictures[1]), other) == 0
