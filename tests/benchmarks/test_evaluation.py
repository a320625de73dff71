"""The video evaluation's metrics and scenario generator (no ../shared needed)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from evaluation.compositing import ellipse_box, render, write_scenario
from evaluation.metrics import (
    FaceFrame,
    background_altered,
    face_similarity,
    id_scores,
    is_scored,
    longest_run,
    score_frame,
    summarize_leaks,
)
from evaluation.scene import Actor, GroundTruth, Occluder, Scenario
from evaluation.sources import BackgroundClip, astronaut_face, synthetic_background
from veil.media import read_frames

pytest.importorskip("skimage")

W, H = 320, 240


@pytest.fixture(scope="module")
def photo():
    return astronaut_face()


def _scene(photo, face_height: float, dim: bool = False):
    """A frame with the astronaut's face centred at (160, 120); and its box."""
    actor = Actor(1, 0, ((0.0, 160.0, 120.0, face_height, 0.0),))
    scenario = Scenario("t", W, H, 0.04, (actor,), night=dim)
    frames, gt = render(scenario, [photo], synthetic_background(W, H, 1.0, seed=3), seed=1)
    return frames[0], gt.frames[0][0].box


def _blur_box(frame, box, sigma_fraction=1 / 6):
    out = frame.copy()
    x0, y0, x1, y1 = (int(v) for v in box)
    sigma = max(x1 - x0, y1 - y0) * sigma_fraction
    out[y0:y1, x0:x1] = cv2.GaussianBlur(frame, (0, 0), sigma)[y0:y1, x0:x1]
    return out


@pytest.mark.parametrize("face_height", [14, 40, 200])
def test_an_untouched_face_is_a_leak(photo, face_height):
    frame, box = _scene(photo, face_height)
    [score] = score_frame(0, frame, frame.copy(), [(1, box, 1.0)])
    assert score.leaked and score.ssim == pytest.approx(1.0)


@pytest.mark.parametrize("face_height", [14, 40, 200])
def test_a_blurred_face_is_not_a_leak(photo, face_height):
    frame, box = _scene(photo, face_height)
    [score] = score_frame(0, frame, _blur_box(frame, box), [(1, box, 1.0)])
    assert score.scored and not score.leaked, score.ssim


def test_a_blurred_face_in_the_dark_is_not_a_leak(photo):
    # contrast normalisation: a dim, low-contrast face is judged like a bright one
    frame, box = _scene(photo, 80, dim=True)
    assert frame.mean() < 60
    assert not score_frame(0, frame, _blur_box(frame, box), [(1, box, 1.0)])[0].leaked
    assert score_frame(0, frame, frame.copy(), [(1, box, 1.0)])[0].leaked


def test_a_lightly_softened_big_face_still_leaks(photo):
    # crops are judged at 48 px: a blur far below the face's scale hides nothing
    frame, box = _scene(photo, 200)
    assert face_similarity(frame, _blur_box(frame, box, 1 / 200), box) >= 0.6


def test_small_hidden_or_off_frame_faces_are_not_scored(photo):
    frame, box = _scene(photo, 40)
    assert not is_scored((0, 0, 9, 9), 1.0)
    assert not is_scored(box, 0.5)
    assert is_scored(box, 0.6)
    [score] = score_frame(0, frame, frame, [(1, box, 0.2)])
    assert not score.scored and not score.leaked


def test_leak_runs_are_measured():
    assert longest_run([]) == 0
    assert longest_run([4, 1, 2, 3, 7, 8]) == 4
    assert longest_run([5, 1, 2, 7, 8, 9]) == 3
    leaked, safe = 1.0, 0.1
    ssims = {1: [leaked] * 4 + [safe] + [leaked] * 2, 2: [safe, leaked, math.nan, leaked]}
    scores = [FaceFrame(i, fid, s) for fid, seq in ssims.items() for i, s in enumerate(seq)]
    summary = summarize_leaks(scores)
    assert summary.face_frames == 10  # the NaN frame is not scored
    assert summary.leaked == 8
    assert summary.rate == pytest.approx(0.8)
    assert (summary.longest_run, summary.longest_run_id) == (4, 1)
    assert summary.leaked_frames[2] == [1, 3]


def test_background_alteration():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    box = (100.0, 80.0, 140.0, 130.0)
    assert background_altered(frame, frame.copy(), [box]) == (
        0,
        W * H - 68 * 84,
    )  # grown 1.6x, +2 px
    changed, total = background_altered(frame, 255 - frame, [box])
    assert changed / total > 0.95
    # changes inside the grown face box are not counted
    inside = frame.copy()
    inside[70:140, 90:150] = 0
    assert background_altered(frame, inside, [box])[0] == 0


def _boxes(x):
    return (x, 50.0, x + 40, 100.0)


def test_idf1_is_one_for_perfect_tracks():
    truth = [[(1, _boxes(10), 1.0), (2, _boxes(200), 1.0)] for _ in range(20)]
    hyps = [[(7, _boxes(12)), (9, _boxes(201))] for _ in range(20)]
    score = id_scores(truth, hyps, W, H)
    assert score.idf1 == pytest.approx(1.0)
    assert score.id_switches == 0
    assert score.ids_per_face == {1: 1, 2: 1}


def test_a_swap_lowers_idf1_and_counts_switches():
    truth = [[(1, _boxes(10), 1.0), (2, _boxes(200), 1.0)] for _ in range(20)]
    hyps = [[(7, _boxes(10)), (9, _boxes(200))] for _ in range(10)]
    hyps += [[(9, _boxes(10)), (7, _boxes(200))] for _ in range(10)]
    score = id_scores(truth, hyps, W, H)
    assert score.idf1 == pytest.approx(0.5)
    assert score.id_switches == 2
    assert score.ids_per_face == {1: 2, 2: 2}
    assert score.ids_per_person == 1.0  # two IDs on two people (swapped)


def test_ids_on_no_face_are_counted_but_not_those_on_a_hidden_face():
    # face 1 is hidden (visible 0) for frames 10-19; ID 5 covers it there, ID 6
    # sits on the wall and ID 7 on the hair above face 1
    truth = [[(1, _boxes(10), 1.0 if i < 10 else 0.0)] for i in range(20)]
    hyps = [[(3, _boxes(10)), (6, _boxes(250))] if i < 10 else [(5, _boxes(10))] for i in range(20)]
    hyps[4].append((7, (10.0, 20.0, 50.0, 55.0)))
    score = id_scores(truth, hyps, W, H)
    assert score.ids == {3, 5, 6, 7}
    assert score.no_face_ids == {6, 7}
    assert score.no_face_share == pytest.approx(0.5)
    assert score.ids_per_face == {1: 1}
    assert score.ids_per_person == 2.0  # IDs 3 and 5


def test_missed_frames_and_hidden_faces():
    truth = [[(1, _boxes(10), 1.0 if i < 10 else 0.0)] for i in range(20)]
    # found for 5 of the 10 visible frames, and kept (coasting) while hidden: not penalised
    hyps = [[(3, _boxes(10))] if i >= 5 else [] for i in range(20)]
    score = id_scores(truth, hyps, W, H)
    assert score.idr == pytest.approx(0.5)
    assert score.idp == pytest.approx(1.0)
    # a box on nothing is a false alarm
    hyps = [[(3, _boxes(10)), (4, _boxes(250))] for _ in range(20)]
    assert id_scores(truth, hyps, W, H).idp == pytest.approx(10 / 30)


def test_ellipse_box_of_a_rotated_face():
    assert ellipse_box(0, 0, 40, 60, 0) == pytest.approx((-20, -30, 20, 30))
    assert ellipse_box(0, 0, 40, 60, 90) == pytest.approx((-30, -20, 30, 20))
    x1 = ellipse_box(0, 0, 40, 60, 45)[2]
    assert x1 == pytest.approx(math.sqrt((20**2 + 30**2) / 2))


def test_ground_truth_box_is_where_the_face_was_pasted(photo, tmp_path):
    grey_bg = BackgroundClip((np.full((H, W, 3), 128, np.uint8),), 10.0, "grey")
    keys = ((0.0, 80.0, 100.0, 50.0, 0.0), (0.36, 240.0, 140.0, 50.0, 30.0))
    actor = Actor(1, 0, keys)
    pillar = Occluder((150, 0, 170, H), z=1.0)
    scenario = Scenario("tiny", W, H, 0.4, (actor,), (pillar,))
    empty = Scenario("empty", W, H, 0.4, (), (pillar,))
    video, truth_path = write_scenario(scenario, [photo], grey_bg, tmp_path, seed=2)
    truth = GroundTruth.read(truth_path)
    plain, _ = render(empty, [photo], grey_bg, seed=2)
    frames = [f.rgb for f in read_frames(video)]
    assert len(frames) == len(truth.frames) == 10
    aspect = (photo.box[2] - photo.box[0]) / photo.face_height
    for i, (frame, faces, background) in enumerate(zip(frames, truth.frames, plain, strict=True)):
        [face] = faces
        t = i / 25
        cx, cy = 80 + 160 * t / 0.36, 100 + 40 * t / 0.36
        angle = 30 * t / 0.36
        assert face.box == pytest.approx(ellipse_box(cx, cy, 50 * aspect, 50, angle), abs=0.02)
        x0, y0, x1, y1 = (round(v) for v in face.box)
        changed = np.abs(frame.astype(int) - background.astype(int)).max(axis=2) > 30
        inside = changed[y0:y1, x0:x1].mean()
        if face.visible == 1.0:
            assert inside > 0.7  # the face is in its box
        # and nothing far from the head changed
        far = np.ones_like(changed)
        far[max(y0 - 40, 0) : y1 + 40, max(x0 - 40, 0) : x1 + 40] = False
        assert changed[far].mean() < 0.01
    visible = [faces[0].visible for faces in truth.frames]
    assert min(visible) < 0.9  # behind the pillar for a while
    assert truth.sources == {1: "skimage.data.astronaut"}
