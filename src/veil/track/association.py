"""Pure matching functions: cost matrices and optimal assignment."""

from __future__ import annotations

import lap
import numpy as np
from numpy.typing import NDArray

from veil.geometry import box_iou


def center_distance(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    """Pairwise centre distance divided by the larger of the two box sizes.

    Small, fast faces can move further than their own width between frames, so
    IoU alone loses them; a size-relative distance still links them.
    """
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    ca = (a[:, :2] + a[:, 2:]) / 2
    cb = (b[:, :2] + b[:, 2:]) / 2
    size_a = np.maximum(a[:, 2] - a[:, 0], a[:, 3] - a[:, 1])
    size_b = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    dist = np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2)
    scale = np.maximum(size_a[:, None], size_b[None, :])
    return (dist / np.maximum(scale, 1e-6)).astype(np.float32)


def match_cost(
    predicted: NDArray[np.float32],
    detected: NDArray[np.float32],
    max_distance: float | NDArray[np.float32],
    max_ratio: float | NDArray[np.float32] = 2.0,
) -> NDArray[np.float32]:
    """Association cost in 0..2 (lower is better); pairs that may not match get inf.

    Pairs match when their boxes overlap, or when their centres are within
    ``max_distance`` box sizes and the sizes agree within a factor of
    ``max_ratio`` (each a scalar, or one per predicted box).
    """
    max_distance = np.broadcast_to(np.asarray(max_distance, np.float32), (len(predicted),))
    max_distance = max_distance[:, None]
    max_ratio = np.broadcast_to(np.asarray(max_ratio, np.float32), (len(predicted),))[:, None]
    iou = box_iou(predicted, detected).astype(np.float32)
    dist = center_distance(predicted, detected)
    size_p = np.maximum(predicted[:, 2] - predicted[:, 0], 1e-6)[:, None]
    size_d = np.maximum(detected[:, 2] - detected[:, 0], 1e-6)[None, :]
    ratio = np.maximum(size_p / size_d, size_d / size_p)
    allowed = (iou > 0) | ((dist < max_distance) & (ratio < max_ratio))
    cost = (1 - iou) + np.minimum(dist, 1)
    return np.where(allowed, cost, np.inf).astype(np.float32)


def assign(cost: NDArray[np.floating]) -> list[tuple[int, int]]:
    """As many one-to-one pairs of finite cost as possible, the cheapest such set.

    ``cost`` holds non-negative finite costs, and inf where a pair may not match.
    """
    finite = np.isfinite(cost)
    if not finite.any():
        return []
    # Leaving a row and a column unpaired costs more than any other choice of
    # pairs could save, so the most pairs are made first, then the cheapest.
    limit = 2.0 * (float(cost[finite].max()) + 1.0) * (min(cost.shape) + 1)
    _, columns, _ = lap.lapjv(cost.astype(np.float64), extend_cost=True, cost_limit=limit)
    return [(row, int(col)) for row, col in enumerate(columns) if col >= 0]
