"""One person, one ID: tracks joined after the fact, looks that keep faces apart, confidence."""

from __future__ import annotations

import numpy as np

from veil.track import FaceTracker, TrackedFace, TrackerConfig, appearance
from veil.track.identities import EvidenceLog, assess
from veil.types import Detections

W, H = 640, 360


def _look(colour: tuple[int, int, int]) -> np.ndarray:
    """The look of a face of one flat colour (what appearance.describe gives)."""
    frame = np.zeros((H, W, 3), np.uint8)
    frame[:, :] = colour
    return appearance.describe(frame, np.array([[100, 100, 160, 160]], np.float32))[0]


RED, BLUE = _look((200, 40, 40)), _look((40, 40, 200))


def _face(track_id: int, x: float, look=None, score=0.9, y: float = 150, size: float = 60):
    return TrackedFace(track_id, (x, y, x + size, y + size), True, score, look)


def _log(frames: dict[int, list[TrackedFace]]) -> EvidenceLog:
    log = EvidenceLog(W, H)
    for frame in sorted(frames):
        log.add(frame, frames[frame])
    return log


def test_looks_tell_two_colours_apart_and_a_face_from_itself():
    assert appearance.similarity(RED, RED)[0, 0] == 1.0
    assert appearance.similarity(RED, BLUE)[0, 0] < 0.1
    # a face cut by the frame's edge has no look to compare: no evidence either way
    frame = np.zeros((H, W, 3), np.uint8)
    cut = appearance.describe(frame, np.array([[-30, 100, 30, 160]], np.float32))
    assert np.isnan(appearance.similarity(cut, RED)[0, 0])


def test_a_person_who_leaves_the_frame_and_comes_back_keeps_one_id():
    # walks out at the right edge on frame 20, back in at the right edge on frame 80;
    # another person, who looks different, walks in at the left edge meanwhile
    frames = {f: [_face(1, 400 + 10 * f, RED)] for f in range(0, 20)}
    frames |= {f: [_face(2, 580 - 10 * (f - 80), RED)] for f in range(80, 100)}
    for f in range(50, 100):
        frames.setdefault(f, []).append(_face(3, 10 * (f - 50), BLUE, y=20))
    identities = assess(_log(frames))
    assert identities.of(1) == identities.of(2) == 1
    assert identities.of(3) == 2
    assert [a.face_id for a in identities.assessments] == [1, 2]


def test_a_look_alike_too_far_from_where_the_face_went_is_another_person():
    # five frames after the face was lost, someone who looks the same, 300 px away
    frames = {f: [_face(1, 100 + f, RED, y=150)] for f in range(0, 20)}
    frames |= {f: [_face(2, 420, RED, y=150)] for f in range(25, 45)}
    identities = assess(_log(frames))
    assert identities.of(1) != identities.of(2)


def test_two_tracks_on_one_face_become_one_id():
    frames = {f: [_face(1, 200, RED), _face(2, 205, RED, score=0.3)] for f in range(0, 6)}
    frames |= {f: [_face(1, 200, RED)] for f in range(6, 30)}
    assert assess(_log(frames)).of(2) == 1


def test_a_face_is_never_joined_across_a_cut():
    # the same look at the same place: one person after a gap, but not across a cut
    frames = {f: [_face(1, 100 + f, RED)] for f in range(0, 20)}
    frames |= {f: [_face(2, 100 + f, RED)] for f in range(25, 45)}
    assert assess(_log(frames)).of(2) == 1
    log = EvidenceLog(W, H)
    for frame in sorted(frames):
        if frame == 25:
            log.cut(23)
        log.add(frame, frames[frame])
    identities = assess(log)
    assert identities.of(2) != identities.of(1)
    assert identities.suggestions == ()


def test_a_merge_is_suggested_only_between_two_sure_faces():
    # somewhat alike (similarity about 0.45): a suggestion between two sure
    # faces, none where one of them is a weak find
    half = _look((168, 40, 72))
    frames = {f: [_face(1, 100 + f, RED)] for f in range(0, 20)}
    frames |= {f: [_face(2, 125 + f, half)] for f in range(25, 45)}
    sure = assess(_log(frames))
    assert sure.of(2) != sure.of(1) and sure.suggestions
    frames |= {f: [_face(2, 125 + f, half, score=0.3)] for f in range(25, 45)}
    assert assess(_log(frames)).suggestions == ()


def test_different_looks_are_never_joined():
    frames = {f: [_face(1, 100 + 5 * f, RED)] for f in range(0, 20)}
    frames |= {f: [_face(2, 100 + 5 * f, BLUE)] for f in range(22, 40)}
    identities = assess(_log(frames))
    assert identities.of(1) != identities.of(2)
    assert identities.suggestions == ()


def test_a_track_found_once_weakly_is_kept_but_low_confidence():
    frames = {f: [_face(1, 100, RED)] for f in range(0, 30)}
    frames[10].append(_face(2, 400, BLUE, score=0.22))
    identities = assess(_log(frames))
    by_id = {a.face_id: a for a in identities.assessments}
    assert not by_id[identities.of(1)].low_confidence
    assert by_id[identities.of(2)].low_confidence
    assert by_id[identities.of(2)].confidence < 0.5


def _dets(*boxes) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9))


def test_a_hidden_face_s_track_does_not_take_a_newcomer_who_looks_different():
    # face 1 walks right and is hidden from frame 10 on; on frame 14 someone
    # else appears just ahead of where it was going
    tracker = FaceTracker(TrackerConfig(pad_frames=0))
    for frame in range(10):
        box = (100 + 6 * frame, 100, 160 + 6 * frame, 160)
        assert tracker.update(frame, _dets(box), RED[None]).tolist() == [1]
    for frame in range(10, 14):
        tracker.update(frame, _dets(), np.zeros((0, appearance.SIZE), np.float32))
    newcomer = (100 + 6 * 14 + 50, 100, 160 + 6 * 14 + 50, 160)
    assert tracker.update(14, _dets(newcomer), BLUE[None]).tolist() == [2]
    # without looks the motion alone gives it the hidden face's ID
    blind = FaceTracker(TrackerConfig(pad_frames=0))
    for frame in range(10):
        blind.update(frame, _dets((100 + 6 * frame, 100, 160 + 6 * frame, 160)))
    for frame in range(10, 14):
        blind.update(frame, _dets())
    assert blind.update(14, _dets(newcomer)).tolist() == [1]


def test_joined_tracks_are_one_id_in_the_annotations_with_one_box_a_frame():
    from fractions import Fraction

    from veil.pipeline.faces import TrackRecorder
    from veil.types import MediaInfo

    info = MediaInfo(W, H, Fraction(25), Fraction(1, 25), 100, Fraction(4), 0)
    recorder = TrackRecorder(info)
    log = EvidenceLog(W, H)
    for frame in range(100):
        faces = []
        if frame < 20:  # leaves at the right edge; held (not detected) two frames more
            faces.append(_face(1, 400 + 10 * frame, RED, score=0.9))
        if 18 <= frame < 22:
            faces.append(TrackedFace(1, (590.0, 150.0, 650.0, 210.0), False, 0.0))
        if frame >= 20:  # back at the right edge, held from frame 18
            faces.append(_face(2, 590 - 5 * (frame - 20), RED, score=0.8))
        if 50 <= frame < 60:  # something else, found once weakly: kept, marked
            found = frame == 50
            box = (50.0, 20.0, 110.0, 80.0)
            faces.append(TrackedFace(3, box, found, 0.3 if found else 0.0, BLUE if found else None))
        recorder.add(frame, Fraction(frame, 25), faces)
        log.add(frame, faces)
    annotations = recorder.annotations("walk", assess(log))
    events = [event for fragment in annotations.fragments for event in fragment.events or ()]
    assert all(len({f.id for f in event}) == len(event) for event in events)
    assert annotations.face_ids() == {1, 2}
    assert {f.id for f in events[19]} == {1}  # track 1's held box and track 2's first
    assert [(i.id, i.lowConfidence) for i in annotations.ids] == [(1, False), (2, True)]
    assert recorder.face_ids(assess(log)) == {1, 2}
