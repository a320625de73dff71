"""Box arithmetic every stage shares: areas, overlaps, intersection over union.

Boxes are xyxy (x0, y0, x1, y1) in pixels, given as an (N, 4) array or a
sequence of 4-tuples; the results are float64. This module imports nothing
of veil's, so detection, tracking, stitching and evaluation all use it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Boxes = NDArray[np.floating] | Sequence[Sequence[float]]


def _as_boxes(boxes: Boxes) -> NDArray[np.float64]:
    return np.asarray(boxes, np.float64).reshape(-1, 4)


def area(boxes: Boxes) -> NDArray[np.float64]:
    """(N,) areas."""
    b = _as_boxes(boxes)
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def intersection(a: Boxes, b: Boxes) -> NDArray[np.float64]:
    """(N, M) areas where each box of ``a`` overlaps each box of ``b``."""
    p, q = _as_boxes(a)[:, None, :], _as_boxes(b)[None, :, :]
    w = np.minimum(p[..., 2], q[..., 2]) - np.maximum(p[..., 0], q[..., 0])
    h = np.minimum(p[..., 3], q[..., 3]) - np.maximum(p[..., 1], q[..., 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def box_iou(a: Boxes, b: Boxes) -> NDArray[np.float64]:
    """(N, M) intersection over union; (N, 0) or (0, M) when either side is empty."""
    inter = intersection(a, b)
    union = area(a)[:, None] + area(b)[None, :] - inter
    return inter / np.maximum(union, 1e-9)
