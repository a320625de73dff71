"""A new face is searched for backwards, so it is covered before it was first detected."""

from __future__ import annotations

import numpy as np

from veil.detect import DetectorConfig, load_detector
from veil.pipeline.backtrack import extend_backwards
from veil.samples import MovingFace, scene
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
    added = extend_backwards(detector, tracker, 1, 10, lambda i: frames[i] if i >= 0 else None, 20)
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
    assert extend_backwards(detector, tracker, 1, 5, lambda i: frames[i], 5) == 0
