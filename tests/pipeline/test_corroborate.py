"""A doubtful new face is kept only where the other model sees a face too."""

from __future__ import annotations

import numpy as np

from evaluation.samples import MovingFace, scene
from pipeline.helpers import ArrayFrame
from veil.detect import DetectorConfig, load_detector
from veil.pipeline.corroborate import continuing, corroborated, doubtful
from veil.types import Detections


class Answers:
    """A second model that finds the given boxes (in the window's pixels) and counts calls."""

    def __init__(self, found: Detections) -> None:
        self.found, self.calls = found, 0

    def detect(self, rgb, threshold=None, upscale=None) -> Detections:
        self.calls += 1
        return self.found


def _dets(boxes, scores) -> Detections:
    return Detections(np.array(boxes, np.float32), np.array(scores, np.float32))


def test_a_large_unsure_box_is_doubtful_and_a_sure_or_smaller_one_is_not():
    # on a 640 x 360 frame: large from 144 px
    dets = _dets(
        [[10, 10, 90, 90], [0, 0, 300, 340], [0, 0, 300, 340], [0, 0, 40, 50]],
        [0.5, 0.95, 0.99, 0.3],
    )
    assert doubtful(dets, 640, 360).tolist() == [False, True, False, False]


def test_a_small_unsure_box_on_a_body_below_a_tracked_face_is_doubtful():
    face = np.array([[300, 50, 350, 110]], np.float32)
    hand = [310, 150, 350, 190]  # below the face, near its size
    crumb = [320, 150, 335, 165]  # below it, far smaller: a face further back
    beside = [420, 60, 460, 100]  # another face at its side
    dets = _dets([hand, crumb, beside], [0.6, 0.6, 0.6])
    assert doubtful(dets, 640, 360, face).tolist() == [True, False, False]
    assert doubtful(dets, 640, 360).tolist() == [False, False, False]


def test_a_box_centred_on_a_tracked_face_continues_it_and_one_below_it_does_not():
    tracked = np.array([[100, 100, 160, 180]], np.float32)
    dets = _dets([[110, 110, 170, 190], [100, 185, 160, 260]], [0.4, 0.4])
    assert continuing(dets, tracked).tolist() == [True, False]


def test_only_doubtful_new_faces_are_asked_and_kept_where_the_other_model_agrees():
    frame = ArrayFrame(np.zeros((360, 640, 3), np.uint8))
    tracked = np.array([[300, 100, 360, 180]], np.float32)
    dets = _dets(
        [[300, 100, 360, 180], [300, 200, 360, 280], [310, 200, 370, 280]],
        [0.4, 0.99, 0.4],  # on the tracked face; sure; doubtful (below it) and new
    )
    nobody = Answers(Detections.empty())
    kept = corroborated(dets, tracked, frame, lambda: nobody)
    assert kept.xyxy.tolist() == dets.xyxy[:2].tolist()
    assert nobody.calls == 1
    # the window around the new box starts 90 px left of it and 80 px up
    agreeing = Answers(_dets([[90, 80, 150, 160]], [0.8]))
    assert len(corroborated(dets, tracked, frame, lambda: agreeing)) == 3
    unsure = Answers(_dets([[90, 80, 150, 160]], [0.1]))
    assert len(corroborated(dets, tracked, frame, lambda: unsure)) == 2


def test_centerface_confirms_a_real_face_and_rejects_a_face_sized_patch_of_wall():
    frame, boxes = scene(640, 360, [MovingFace(90, (200, 150), (200, 150))], 0.0)
    face = boxes[0]
    wall = (450, 120, 540, 210)
    dets = _dets([face, wall], [0.5, 0.5])
    # each lies below a tracked face of its size (a body's place): both are asked
    tracked = dets.xyxy - np.array([0, 100, 0, 100], np.float32)
    assert doubtful(dets, 640, 360, tracked).all()
    second = load_detector(DetectorConfig(name="centerface"))
    kept = corroborated(dets, tracked, ArrayFrame(frame), lambda: second)
    assert kept.xyxy.tolist() == dets.xyxy[:1].tolist()
