"""Weak detections that recur at one place count as a face; wandering noise does not."""

from __future__ import annotations

import numpy as np

from veil.track.recurrence import RecurrenceConfig, RecurringFaces
from veil.types import Detections

NONE_TAKEN = np.zeros((0, 4), np.float32)


def weak(*boxes: tuple[float, float, float, float], score: float = 0.12) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), score))


def test_a_weak_face_at_one_place_counts_from_its_third_frame() -> None:
    faces = RecurringFaces(RecurrenceConfig(frames=3))
    counted = [len(faces.update(f, weak((100 + f, 50, 130 + f, 90)), NONE_TAKEN)) for f in range(5)]
    assert counted == [0, 0, 1, 1, 1]


def test_noise_that_wanders_never_counts() -> None:
    rng = np.random.default_rng(0)
    faces = RecurringFaces(RecurrenceConfig(frames=3))
    for frame in range(40):
        x, y = rng.uniform(0, 1000, size=2)
        assert len(faces.update(frame, weak((x, y, x + 20, y + 25)), NONE_TAKEN)) == 0


def test_one_missed_frame_is_forgiven_two_are_not() -> None:
    box = (100, 50, 130, 90)
    faces = RecurringFaces(RecurrenceConfig(frames=3))
    seen = [weak(box), weak(), weak(box), weak(box)]
    assert [len(faces.update(f, d, NONE_TAKEN)) for f, d in enumerate(seen)] == [0, 0, 0, 1]
    faces = RecurringFaces(RecurrenceConfig(frames=3))
    seen = [weak(box), weak(), weak(), weak(box), weak(box)]
    assert [len(faces.update(f, d, NONE_TAKEN)) for f, d in enumerate(seen)] == [0, 0, 0, 0, 0]


def test_a_weak_box_on_a_face_already_found_is_that_face() -> None:
    box = (100, 50, 130, 90)
    taken = np.array([box], np.float32)
    faces = RecurringFaces(RecurrenceConfig(frames=2, candidates=1))
    assert [len(faces.update(f, weak(box), taken)) for f in range(4)] == [0, 0, 0, 0]
    faces.close()
    assert faces.candidates() == []


def test_off_counts_nothing_but_still_lists_candidates() -> None:
    faces = RecurringFaces(RecurrenceConfig(frames=0, candidates=2))
    for frame in range(3):
        assert len(faces.update(frame, weak((10, 10, 40, 50)), NONE_TAKEN)) == 0
    faces.update(3, weak((500, 10, 530, 50)), NONE_TAKEN)  # seen once: noise
    faces.close()
    [candidate] = faces.candidates()
    assert candidate.track_id == 1
    assert candidate.frames.tolist() == [0, 1, 2]
    assert candidate.xyxy[0].tolist() == [10, 10, 40, 50]


def test_a_chain_that_counted_is_no_candidate() -> None:
    faces = RecurringFaces(RecurrenceConfig(frames=2, candidates=2))
    for frame in range(3):
        faces.update(frame, weak((10, 10, 40, 50)), NONE_TAKEN)
    faces.close()
    assert faces.candidates() == []
