"""Redaction effects: pure functions from (frame, boxes) to a new frame.

Blur strength scales with the face: the Gaussian sigma (and the pixelate
block) is a fraction of the face's size, calibrated on real faces so that a
covered face no longer matches its original at any size
(``bench/calibrate_blur.py``). Small faces set the bar: a 15 px face holds
only its coarse layout, which a blur of a sixth of its size leaves intact
(34 % of covered WIDER faces under 16 px still matched), so the sigmas are
large. Large sigmas are computed on a downscaled region (the result is the
same low-frequency image) to keep the cost independent of size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.settings import BlurType
from veil.types import FaceBox


class MaskShape(StrEnum):
    """The area hidden around a face box.

    ``head`` is an ellipse over the whole head (hair, ears and chin, not just
    the tight box a detector draws: those identify a person too); ``ellipse``
    and ``rectangle`` are the box grown by ``mask_scale`` about its centre.
    """

    HEAD = "head"
    ELLIPSE = "ellipse"
    RECTANGLE = "rectangle"


# The head around a face box, in face-box units: its width and height, and how
# far its centre sits above the box's (the hair is above the face; the box ends
# at the chin). The same proportions as the video evaluation's head crops.
HEAD_WIDTH = 1.5
HEAD_HEIGHT = 1.7
HEAD_RAISE = 0.1
# ``mask_scale`` when none is given: the head as it is; detector boxes are
# tight, and an ellipse inside a box leaves its corners, so boxes grow 1.3x.
DEFAULT_MASK_SCALE = {MaskShape.HEAD: 1.0, MaskShape.ELLIPSE: 1.3, MaskShape.RECTANGLE: 1.3}


@dataclass(frozen=True)
class RedactionConfig:
    """How faces are hidden.

    Attributes:
        blur: the effect (Azure's Low/Med/High/Box/Black, plus pixelate).
        mask: the head (default), an ellipse or a rectangle around the box.
        mask_scale: the mask is grown by this factor about its centre;
            None: ``DEFAULT_MASK_SCALE`` of the shape.
        strength: overrides the blur type's calibrated strength (``STRENGTH``):
            the Gaussian sigma as a fraction of the face's larger side, or the
            number of pixelate blocks across it. For calibration only.
    """

    blur: BlurType = BlurType.MED
    mask: MaskShape = MaskShape.HEAD
    mask_scale: float | None = None
    strength: float | None = None

    @property
    def scale(self) -> float:
        """The mask's growth factor, given or the shape's default."""
        return DEFAULT_MASK_SCALE[self.mask] if self.mask_scale is None else self.mask_scale


# Gaussian sigma as a fraction of the face's larger side, and pixelate blocks
# across it. Measured with bench/calibrate_blur.py (WIDER dev enlarged 1.5x,
# RetinaFace boxes matching a labelled face; share of covered faces still
# matching, SSIM >= 0.6): sigma 1/6 (the old med) 14 %, 1/3.5 (the old high,
# now low) 1.1 %, 1/2.5 (med) and 2/3 (high) 0 % at every size (median
# SSIM 0.30, 0.25, 0.22: high leaves little but the average colour); 8 blocks
# (the old pixelate) 75 %, 3 blocks 0.7 %.
STRENGTH = {
    BlurType.LOW: 1 / 3.5,
    BlurType.MED: 1 / 2.5,
    BlurType.HIGH: 2 / 3,
    BlurType.PIXELATE: 3.0,
}
# Past this sigma the region is blurred at reduced size and scaled back up.
_MAX_DIRECT_SIGMA = 3.0

Box = tuple[int, int, int, int]


def mask_extent(
    x0: float, y0: float, x1: float, y1: float, config: RedactionConfig
) -> tuple[float, float, float, float]:
    """The bounding box of the area ``config`` hides for the face box ``(x0, y0, x1, y1)``.

    The box is made the head's (for ``MaskShape.HEAD``), then scaled about its
    centre by the mask scale. Any unit works: the extent is in the box's.
    """
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if config.mask is MaskShape.HEAD:
        cy -= HEAD_RAISE * h
        w, h = w * HEAD_WIDTH, h * HEAD_HEIGHT
    half_w, half_h = w * config.scale / 2, h * config.scale / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def grow_box(box: FaceBox, config: RedactionConfig, width: int, height: int) -> Box | None:
    """The mask's extent for ``box``, rounded outwards; None if wholly off-frame.

    The result is not clipped: a face half out of the frame keeps its full
    ellipse, of which the visible part is drawn.
    """
    fx0, fy0, fx1, fy1 = mask_extent(box.x0, box.y0, box.x1, box.y1, config)
    x0, y0 = int(np.floor(fx0)), int(np.floor(fy0))
    x1, y1 = int(np.ceil(fx1)), int(np.ceil(fy1))
    if x1 <= max(x0, 0) or y1 <= max(y0, 0) or x0 >= width or y0 >= height:
        return None
    return x0, y0, x1, y1


def gaussian_blur(region: NDArray[np.uint8], sigma: float) -> NDArray[np.uint8]:
    """Gaussian blur whose cost does not grow with sigma."""
    if sigma <= _MAX_DIRECT_SIGMA:
        return cv2.GaussianBlur(region, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)
    factor = _MAX_DIRECT_SIGMA / sigma
    height, width = region.shape[:2]
    small_size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = cv2.resize(region, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(
        small, (0, 0), sigmaX=_MAX_DIRECT_SIGMA, borderType=cv2.BORDER_REPLICATE
    )
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def pixelate(region: NDArray[np.uint8], face_size: float, blocks: float) -> NDArray[np.uint8]:
    """Blocks of ``face_size / blocks`` px, each the region's mean colour there."""
    height, width = region.shape[:2]
    block = max(face_size / blocks, 2.0)
    small_size = (max(1, round(width / block)), max(1, round(height / block)))
    small = cv2.resize(region, small_size, interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def _mask(shape: MaskShape, height: int, width: int, inner: Box) -> NDArray[np.bool_]:
    x0, y0, x1, y1 = inner
    mask = np.zeros((height, width), np.uint8)
    if shape is MaskShape.RECTANGLE:
        mask[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = 1
    else:
        center = ((x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2)
        axes = (max((x1 - x0) / 2, 0.5), max((y1 - y0) / 2, 0.5))
        # cv2 draws with fixed-point coordinates: shift=4 keeps sub-pixel centres
        cv2.ellipse(
            mask,
            (round(center[0] * 16), round(center[1] * 16)),
            (round(axes[0] * 16), round(axes[1] * 16)),
            0,
            0,
            360,
            1,
            thickness=-1,
            shift=4,
        )
    return mask.astype(bool)


def _filled(
    frame: NDArray[np.uint8],
    box: Box,
    effect: Callable[[NDArray[np.uint8]], NDArray[np.uint8]],
    margin: int,
    mask: MaskShape,
) -> None:
    height, width = frame.shape[:2]
    x0, y0, x1, y1 = box
    # the effect sees a margin around the face so blurs have context at the edges
    rx0, ry0 = max(x0 - margin, 0), max(y0 - margin, 0)
    rx1, ry1 = min(x1 + margin, width), min(y1 + margin, height)
    region = frame[ry0:ry1, rx0:rx1]
    changed = effect(region)
    inside = _mask(mask, ry1 - ry0, rx1 - rx0, (x0 - rx0, y0 - ry0, x1 - rx0, y1 - ry0))
    region[inside] = changed[inside]


def _outline(plane: NDArray[np.uint8], box: Box, value: int, thickness: int) -> None:
    x0, y0, x1, y1 = box
    colour = (value,) * (plane.shape[2] if plane.ndim == 3 else 1)
    cv2.rectangle(plane, (x0, y0), (x1 - 1, y1 - 1), colour, thickness)


def _scaled(face: FaceBox, sx: float, sy: float) -> FaceBox:
    return FaceBox(face.face_id, face.x0 * sx, face.y0 * sy, face.x1 * sx, face.y1 * sy)


def redact_planes(
    planes: Sequence[NDArray[np.uint8]],
    boxes: Sequence[FaceBox],
    config: RedactionConfig,
    black: Sequence[int],
    white: Sequence[int],
) -> None:
    """Hide every box, in place, in an image stored as planes (RGB, or Y/U/V).

    Boxes are in pixels of the first plane; the others (subsampled chroma) get
    the same boxes scaled to their size. ``black`` and ``white`` are each
    plane's levels, for the fill and the outline.
    """
    height, width = planes[0].shape[:2]
    strength = STRENGTH.get(config.blur, 0.0) if config.strength is None else config.strength
    for plane, black_level, white_level in zip(planes, black, white, strict=True):
        sx, sy = plane.shape[1] / width, plane.shape[0] / height
        for face in boxes:
            scaled = _scaled(face, sx, sy)
            box = grow_box(scaled, config, plane.shape[1], plane.shape[0])
            if box is None:
                continue
            size = float(max(scaled.x1 - scaled.x0, scaled.y1 - scaled.y0))
            if config.blur is BlurType.BOX:
                full_size = max(face.x1 - face.x0, face.y1 - face.y0) * config.scale
                thickness = max(1, round(max(2, full_size / 40) * sx))
                _outline(plane, box, white_level, thickness)
            elif config.blur is BlurType.BLACK:
                _filled(plane, box, lambda r, v=black_level: np.full_like(r, v), 0, config.mask)
            elif config.blur is BlurType.PIXELATE:
                _filled(plane, box, lambda r, s=size: pixelate(r, s, strength), 0, config.mask)
            else:
                sigma = max(size * strength, 1.0)
                _filled(
                    plane,
                    box,
                    lambda r, s=sigma: gaussian_blur(r, s),
                    round(2 * sigma),
                    config.mask,
                )


def redact_frame(
    rgb: NDArray[np.uint8], boxes: Sequence[FaceBox], config: RedactionConfig = RedactionConfig()
) -> NDArray[np.uint8]:
    """A copy of an RGB image with every box hidden by ``config.blur``."""
    frame = rgb.copy()
    redact_planes([frame], boxes, config, black=[0], white=[255])
    return frame
