"""Hard cuts: told apart from motion, and no face is held or followed across one."""

from __future__ import annotations

import itertools

import numpy as np

from veil.pipeline.cuts import is_blank, is_cut, signature
from veil.track import FaceTracker, TrackerConfig
from veil.types import Detections


def _scene(seed: int, shift: int = 0, gain: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    blocks = rng.integers(30, 220, size=(9, 16)).astype(np.float32)
    luma = np.kron(blocks, np.ones((60, 60), np.float32))  # 540 x 960
    return np.clip(np.roll(luma, shift, axis=1) * gain, 0, 255).astype(np.uint8)


def test_a_new_shot_is_a_cut_a_pan_or_a_flash_is_not() -> None:
    first = signature(_scene(0))
    assert is_cut(first, signature(_scene(1)))
    assert not is_cut(first, signature(_scene(0, shift=8)))  # the camera pans
    assert not is_cut(first, signature(_scene(0, gain=1.3)))  # exposure or a flash


def test_a_fade_through_black_is_no_cut_frame_to_frame_but_its_black_frame_is_blank() -> None:
    gains = [1.0 - k / 10 for k in range(11)]  # ten frames down to black
    fade = [signature(_scene(0, gain=g)) for g in gains]
    assert not any(is_cut(a, b) for a, b in itertools.pairwise(fade))
    assert [is_blank(s) for s in fade] == [False] * 10 + [True]
    # a dark shot is not blank
    assert not is_blank(signature(_scene(0, gain=0.1)))


def _face(x: float) -> Detections:
    return Detections(np.array([[x, 100, x + 40, 150]], np.float32), np.array([0.9]))


def test_no_face_is_held_across_a_cut() -> None:
    tracker = FaceTracker(TrackerConfig(pad_frames=5), stride=1)
    for frame in range(10):
        tracker.update(frame, _face(100 + frame))
    tracker.cut(10)
    for frame in range(12, 20):
        tracker.update(frame, _face(600))
    tracker.close()
    [first] = tracker.faces_at(5)
    [second] = tracker.faces_at(15)
    assert first.track_id != second.track_id
    # the first shot's face is not held into the second, nor the second's padded back
    # into the first (frames 7 to 11 are within both faces' padding)
    assert [f.track_id for f in tracker.faces_at(9)] == [first.track_id]
    assert [f.track_id for f in tracker.faces_at(10)] == [second.track_id]


def test_without_a_cut_the_padding_still_holds_faces() -> None:
    tracker = FaceTracker(TrackerConfig(pad_frames=5), stride=1)
    for frame in range(10):
        tracker.update(frame, _face(100 + frame))
    tracker.close()
    assert len(tracker.faces_at(12)) == 1


def test_a_face_does_not_come_back_across_a_cut() -> None:
    tracker = FaceTracker(TrackerConfig(max_gap=3, relink_frames=50), stride=1)
    for frame in range(5):
        tracker.update(frame, _face(100))
    tracker.cut(20)
    ids = tracker.update(20, _face(100))  # same place, another shot
    tracker.close()
    assert ids[0] != tracker.faces_at(4)[0].track_id
