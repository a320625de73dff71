"""Box overlaps: the one IoU every stage (detection, tracking, stitching, evaluation) uses."""

from __future__ import annotations

import numpy as np
import pytest

from veil.geometry import area, box_iou, intersection


def test_iou_of_known_boxes():
    a = [(0, 0, 10, 10), (100, 100, 110, 120)]
    b = np.array([(5, 0, 15, 10), (0, 0, 10, 10), (50, 50, 60, 60)], np.float32)
    iou = box_iou(a, b)
    assert iou.shape == (2, 3)
    assert iou[0] == pytest.approx([50 / 150, 1.0, 0.0])
    assert iou[1] == pytest.approx([0.0, 0.0, 0.0])
    assert intersection(a, b)[0] == pytest.approx([50, 100, 0])
    assert area(a) == pytest.approx([100, 200])


def test_either_side_empty_gives_an_empty_matrix():
    assert box_iou([], [(0, 0, 1, 1)]).shape == (0, 1)
    assert box_iou(np.zeros((3, 4)), np.zeros((0, 4))).shape == (3, 0)


def test_degenerate_boxes_do_not_divide_by_zero():
    assert box_iou([(5, 5, 5, 5)], [(5, 5, 5, 5)])[0, 0] == 0.0
