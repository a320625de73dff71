"""Hard cuts: where the picture changes at once, so no track can carry over.

A face's box is held for some frames past its last detection and before its
first, and searched for backwards through the frames held in the look-ahead.
Across a cut those frames show another scene, so every track ends at a cut
(:meth:`veil.track.FaceTracker.cut`, called by
:class:`veil.pipeline.faces.FaceFinder`): in the real-faces evaluation (a
cut every 40 frames) that took the background altered from 5.5 % to 3.8 %
and the leaks from 8.4 % to 8.0 %. An enlarged search on the frames after
each cut, where no face is tracked yet, was measured too and found nothing
more (8.0 % against 8.1 %).

A cut is told from two frames' *signatures*: the luma plane brought down to
``SIGNATURE_SIZE``, less its mean (so a flash or an exposure change is no
cut). Consecutive frames of one shot, even panning, differ little at that
size; two shots differ everywhere.

A fade through black changes the picture too slowly for that test, frame to
frame; but on its way it shows a *blank* frame (every grey level within
``BLANK_LEVELS`` of the mean), on which no face can be seen, so the first
blank frame after a picture ends every track as a cut does.
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


# Mean absolute deviation of a signature, in grey levels, under which a frame
# shows nothing (black, white or one flat colour). The real-faces evaluation's
# darkest shots and the shared clips' night scenes deviate by more than this.
BLANK_LEVELS = 1.0


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


def is_blank(current: NDArray[np.float32]) -> bool:
    """Whether a frame's signature shows nothing (a fade's black frame)."""
    return float(np.abs(current).mean()) < BLANK_LEVELS
