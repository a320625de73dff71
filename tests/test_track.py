"""Tracking: one person keeps one ID and stays covered through missed detections."""

from __future__ import annotations

import numpy as np
import pytest

from veil.track import FaceTracker, TrackerConfig
from veil.types import Detections


def _dets(*boxes: tuple[float, float, float, float]) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9))


def _walk(frame: int, x0: float = 10, speed: float = 4, y: float = 50, size: float = 40):
    return (x0 + speed * frame, y, x0 + speed * frame + size, y + size)


def test_a_face_missed_for_some_frames_keeps_its_id_and_is_interpolated():
    tracker = FaceTracker(TrackerConfig(max_gap=10, pad_frames=0))
    missed = set(range(8, 15))
    for frame in range(30):
        tracker.update(frame, _dets() if frame in missed else _dets(_walk(frame)))
    result = tracker.finish(30)
    assert len(result.tracks) == 1
    track = result.tracks[0]
    assert track.frames.tolist() == list(range(30))
    assert not track.detected[list(missed)].any()
    np.testing.assert_allclose(track.xyxy[11], _walk(11), atol=1e-3)


def test_two_crossing_faces_keep_their_ids():
    tracker = FaceTracker(TrackerConfig(pad_frames=0))
    for frame in range(40):
        left = _walk(frame, x0=0, speed=5, y=40)
        right = _walk(frame, x0=200, speed=-5, y=100)
        ids = tracker.update(frame, _dets(left, right))
        assert ids.tolist() == [1, 2]
    assert [t.track_id for t in tracker.finish(40).tracks] == [1, 2]


def test_tracks_are_padded_before_the_first_and_after_the_last_detection():
    tracker = FaceTracker(TrackerConfig(pad_frames=3))
    for frame in range(10, 20):
        tracker.update(frame, _dets(_walk(0)))
    track = tracker.finish(21).tracks[0]
    assert (track.first_frame, track.last_frame) == (7, 20)  # clipped at the video's end


@pytest.mark.parametrize("gap", [3, 20])
def test_a_face_gone_longer_than_max_gap_gets_a_new_id(gap: int):
    tracker = FaceTracker(TrackerConfig(max_gap=10, pad_frames=0))
    for frame in [*range(5), *range(5 + gap, 10 + gap)]:
        tracker.update(frame, _dets(_walk(0)))
    ids = [t.track_id for t in tracker.finish(10 + gap).tracks]
    assert ids == ([1] if gap <= 10 else [1, 2])


def test_no_cap_on_faces_per_frame():
    boxes = [
        (x * 12.0, y * 12.0, x * 12.0 + 10, y * 12.0 + 10) for x in range(10) for y in range(10)
    ]
    tracker = FaceTracker()
    for frame in range(3):
        tracker.update(frame, _dets(*boxes))
    assert len(tracker.finish(3).tracks) == 100
