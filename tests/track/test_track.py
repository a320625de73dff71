"""Tracking: one person keeps one ID and stays covered through missed detections."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from veil.track import FaceTracker, TrackedFace, TrackerConfig
from veil.track.association import assign
from veil.types import Detections


def _dets(*boxes: tuple[float, float, float, float]) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9))


def _walk(frame: int, x0: float = 10, speed: float = 4, y: float = 50, size: float = 40):
    return (x0 + speed * frame, y, x0 + speed * frame + size, y + size)


def _run(tracker: FaceTracker, detections: dict[int, Detections], frames: int):
    """Feed the tracker like the pipeline does; returns each frame's faces once settled."""
    settled: list[list[TrackedFace]] = []
    for frame in range(frames):
        if frame in detections:
            tracker.update(frame, detections[frame])
        while len(settled) < min(tracker.settled_until(), frame + 1):
            settled.append(tracker.faces_at(len(settled)))
            tracker.forget_before(len(settled))
    tracker.close()
    while len(settled) < frames:
        settled.append(tracker.faces_at(len(settled)))
    return settled


def test_a_face_missed_for_some_frames_keeps_its_id_and_is_interpolated():
    missed = set(range(8, 15))
    detections = {f: _dets() if f in missed else _dets(_walk(f)) for f in range(30)}
    faces = _run(FaceTracker(TrackerConfig(max_gap=10, pad_frames=0)), detections, 30)
    assert all([f.track_id for f in frame] == [1] for frame in faces)
    assert not any(faces[f][0].detected for f in missed)
    np.testing.assert_allclose(faces[11][0].xyxy, _walk(11), atol=1e-3)


def test_two_crossing_faces_keep_their_ids():
    tracker = FaceTracker(TrackerConfig(pad_frames=0))
    for frame in range(40):
        left = _walk(frame, x0=0, speed=5, y=40)
        right = _walk(frame, x0=200, speed=-5, y=100)
        assert tracker.update(frame, _dets(left, right)).tolist() == [1, 2]


def test_tracks_are_padded_before_the_first_and_after_the_last_detection():
    detections = {f: _dets(_walk(0)) for f in range(10, 20)}
    faces = _run(FaceTracker(TrackerConfig(pad_frames=3)), detections, 30)
    covered = [i for i, frame in enumerate(faces) if frame]
    assert (covered[0], covered[-1]) == (7, 22)


def test_detecting_on_a_stride_covers_every_frame_in_between():
    # detections on every 4th frame only: the frames between are interpolated,
    # and the padding grows by the stride so the unseen ends stay covered
    detections = {f: _dets(_walk(f)) for f in range(8, 40, 4)}
    faces = _run(FaceTracker(TrackerConfig(pad_frames=2), stride=4), detections, 50)
    covered = [i for i, frame in enumerate(faces) if frame]
    assert covered == list(range(8 - 5, 36 + 5 + 1))
    np.testing.assert_allclose(faces[10][0].xyxy, _walk(10), atol=1e-3)


@pytest.mark.parametrize("gap", [3, 20])
def test_a_face_gone_longer_than_max_gap_gets_a_new_id(gap: int):
    frames = [*range(5), *range(5 + gap, 10 + gap)]
    detections = {f: _dets(_walk(0)) for f in frames}
    config = TrackerConfig(max_gap=10, pad_frames=0, relink_frames=0)
    faces = _run(FaceTracker(config), detections, 10 + gap)
    ids = sorted({f.track_id for frame in faces for f in frame})
    assert ids == ([1] if gap <= 10 else [1, 2])


def test_a_face_back_from_a_long_hiding_keeps_its_id_but_the_hiding_place_is_not_blurred():
    # walking at 3 px/frame behind a pillar for 40 frames (max_gap 25), and out
    # again where its walk predicts; another face turns up far away meanwhile
    seen = [*range(0, 20), *range(60, 80)]
    detections = {f: _dets(_walk(f, speed=3)) for f in seen}
    detections[70] = _dets(_walk(70, speed=3), (400, 300, 440, 340))
    faces = _run(FaceTracker(TrackerConfig(max_gap=25, pad_frames=2)), detections, 80)
    assert [f.track_id for f in faces[65]] == [1]
    assert sorted(f.track_id for f in faces[70]) == [1, 2]
    assert faces[40] == []  # not interpolated through the hiding


def test_settled_frames_need_only_a_bounded_look_ahead():
    tracker = FaceTracker(TrackerConfig(max_gap=25, pad_frames=5), stride=1)
    for frame in range(100):
        tracker.update(frame, _dets(_walk(frame % 10)))
    assert tracker.settled_until() == 99 - tracker.lookahead
    assert tracker.lookahead <= 26


def test_no_cap_on_faces_per_frame():
    grid = [
        (x * 12.0, y * 12.0, x * 12.0 + 10, y * 12.0 + 10) for x in range(10) for y in range(10)
    ]
    tracker = FaceTracker()
    for frame in range(3):
        tracker.update(frame, _dets(*grid))
    tracker.close()
    assert len(tracker.faces_at(1)) == 100


def test_a_face_lost_while_moving_is_followed_and_the_box_grows():
    # walking right at 4 px/frame, last detected on frame 19
    detections = {f: _dets(_walk(f)) for f in range(20)}
    faces = _run(FaceTracker(TrackerConfig(pad_frames=5)), detections, 30)
    (coasting,) = faces[23]
    assert not coasting.detected
    # it covers where the walk goes on and where the face was last seen (it
    # may have stopped), so it is wider than the face by about its speed
    truth, last = _walk(23), _walk(19)
    assert coasting.xyxy[0] <= last[0] and coasting.xyxy[2] >= truth[2]
    assert coasting.xyxy[1] <= truth[1] and coasting.xyxy[3] >= truth[3]
    assert coasting.xyxy[2] - coasting.xyxy[0] > truth[2] - truth[0] + 4 * 4


def test_a_face_back_after_an_occlusion_keeps_its_id_though_it_moved_on():
    # hidden for 20 frames behind something, and back two face sizes (60 px)
    # away from where its walk predicted: it sped up while unseen
    detections = {f: _dets(_walk(f, speed=6, size=30)) for f in range(10)}
    detections |= {f: _dets(_walk(f, x0=70, speed=6, size=30)) for f in range(30, 40)}
    faces = _run(FaceTracker(TrackerConfig(max_gap=25, max_distance=1.0)), detections, 40)
    assert {f.track_id for frame in faces for f in frame} == {1}


def test_a_coasting_box_never_shrinks_though_the_face_was_shrinking():
    # two jittery detections of a weak face say it shrinks by 4 px a frame:
    # extrapolated before the first one, the box would vanish off the face
    detections = {10: _dets((100, 100, 140, 140)), 11: _dets((102, 102, 138, 138))}
    detections |= {f: _dets((102, 102, 138, 138)) for f in range(12, 20)}
    faces = _run(FaceTracker(TrackerConfig(pad_frames=8)), detections, 20)
    for frame in range(2, 10):
        (face,) = faces[frame]
        x0, y0, x1, y1 = face.xyxy
        assert x1 - x0 >= 40 and y1 - y0 >= 40
        assert x0 <= 100 and x1 >= 140


def test_a_lost_face_is_offered_for_a_search_only_while_recently_confirmed():
    tracker = FaceTracker(TrackerConfig(max_gap=10, pad_frames=3))
    tracker.update(0, _dets(_walk(0)))
    assert [track_id for track_id, _ in tracker.lost_at(1)] == [1]
    # found near its place by a search on frames 1..12, never by the detector again
    for frame in range(1, 13):
        tracker.update(frame, _dets())
        lost = tracker.lost_at(frame)
        if frame <= 10:
            assert [track_id for track_id, _ in lost] == [1]
            tracker.extend_forward(1, frame, np.array(_walk(frame), np.float32), 0.1, sure=False)
        else:
            assert lost == []  # a search alone keeps a face no longer than max_gap


def _best_pairs(cost: np.ndarray) -> tuple[int, float]:
    """Brute force: the most finite pairs, then the lowest total cost."""
    rows, cols = cost.shape
    best = (0, 0.0)
    for chosen in itertools.product(range(-1, cols), repeat=rows):
        used = [c for c in chosen if c >= 0]
        if len(used) != len(set(used)) or any(
            np.isinf(cost[r, c]) for r, c in enumerate(chosen) if c >= 0
        ):
            continue
        total = sum(cost[r, c] for r, c in enumerate(chosen) if c >= 0)
        if (len(used), -total) > (best[0], -best[1]):
            best = (len(used), total)
    return best


def test_association_pairs_as_many_faces_as_possible_then_the_closest():
    rng = np.random.default_rng(0)
    for _ in range(300):
        rows, cols = rng.integers(1, 5, size=2)
        cost = (rng.random((rows, cols)) * 2).astype(np.float32)
        cost[rng.random((rows, cols)) < rng.random()] = np.inf
        pairs = assign(cost)
        assert len({c for _, c in pairs}) == len(pairs) == len({r for r, _ in pairs})
        count, total = _best_pairs(cost)
        assert len(pairs) == count
        assert sum(cost[r, c] for r, c in pairs) == pytest.approx(total, abs=1e-5)
