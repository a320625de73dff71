"""Display rotation: detect and annotate upright, encode in storage orientation.

A phone video is often stored sideways with a display rotation. Faces are
searched for, annotated and shown upright (as a person sees the video), and
boxes are mapped back to the stored pixels for redaction.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from veil.media.picture import VideoPicture


def quarter_turns(rotation: int) -> int:
    """Counter-clockwise quarter turns that make a stored frame upright."""
    return (round(rotation / 90)) % 4


def to_upright(rgb: NDArray[np.uint8], rotation: int) -> NDArray[np.uint8]:
    """The stored frame as displayed (rotation is counter-clockwise degrees)."""
    turns = quarter_turns(rotation)
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def upright_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    return (height, width) if quarter_turns(rotation) % 2 else (width, height)


def boxes_to_storage(
    xyxy: NDArray[np.float32], rotation: int, width: int, height: int
) -> NDArray[np.float32]:
    """Map (N, 4) boxes from upright coordinates to the stored frame's (``width`` x ``height``).

    ``np.rot90`` maps stored (x, y) to upright (y, W - x) per quarter turn; this
    undoes the turns one at a time.
    """
    boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
    turns = quarter_turns(rotation)
    for step in range(turns, 0, -1):
        # width of the image before this quarter turn was applied
        source_width = width if (step - 1) % 2 == 0 else height
        x0, y0, x1, y1 = boxes.T
        boxes = np.stack([source_width - y1, x0, source_width - y0, x1], axis=1)
    return boxes.astype(np.float32)


class UprightPicture:
    """A picture as displayed, converted to RGB one region at a time."""

    def __init__(self, picture: VideoPicture, rotation: int) -> None:
        self.picture, self.rotation = picture, rotation
        self.width, self.height = upright_size(picture.width, picture.height, rotation)

    def rgb(self, x0: int, y0: int, x1: int, y1: int) -> NDArray[np.uint8]:
        """Upright pixels ``[y0:y1, x0:x1]`` in RGB."""
        picture = self.picture
        region = np.array([[x0, y0, x1, y1]], np.float32)
        stored = boxes_to_storage(region, self.rotation, picture.width, picture.height)[0]
        sx0, sy0, sx1, sy1 = np.rint(stored).astype(int).tolist()
        return to_upright(picture.rgb_region(sx0, sy0, sx1, sy1), self.rotation)
