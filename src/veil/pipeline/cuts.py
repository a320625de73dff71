"""Hard cuts: where the picture changes at once, so no track can carry over.

At a cut, every face is new and none is tracked yet: the detector has to
find them from nothing, and a small one the downscaled pass misses stays
visible until the next enlarged pass. So the frames just after a cut are
searched at full strength (:class:`veil.pipeline.faces.FaceFinder`).

A cut is told from two frames' *signatures*: the luma plane brought down to
``SIGNATURE_SIZE``, less its mean (so a flash or an exposure change is no
cut). Consecutive frames of one shot, even panning, differ little at that
size; two shots differ everywhere.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

SIGNATURE_SIZE = (32, 18)
# Mean absolute difference of two signatures, in grey levels, above which
# the frames belong to different shots. Measured: the real-faces evaluation's
# cuts between photos 33 or more, its frames within a shot (panning, zooming,
# shaking) at most 6; the shared real clips (street, podcast, intel; no cuts)
# at most 10, walking close past the camera.
CUT_LEVELS = 18.0


def signature(luma: NDArray[np.uint8]) -> NDArray[np.float32]:
    """A frame's coarse picture (grey levels less their mean), from its luma plane."""
    height, width = luma.shape[:2]
    # every n-th pixel first: the area average of a 4K plane is not needed for 32 x 18
    step = max(1, min(height // (4 * SIGNATURE_SIZE[1]), width // (4 * SIGNATURE_SIZE[0])))
    small = cv2.resize(
        np.ascontiguousarray(luma[::step, ::step]), SIGNATURE_SIZE, interpolation=cv2.INTER_AREA
    ).astype(np.float32)
    return small - small.mean()


def is_cut(before: NDArray[np.float32], after: NDArray[np.float32]) -> bool:
    """Whether two consecutive frames' signatures belong to different shots."""
    return float(np.abs(after - before).mean()) > CUT_LEVELS
