"""Geometry shared by the detectors: resizing frames for a model, mapping boxes
back, non-maximum suppression and the tiled search for small faces."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.geometry import box_iou
from veil.types import Detections

# Both models downsample by 32 at their coarsest level.
STRIDE = 32
# Neighbouring tiles of the enlarged frame overlap by this fraction so that a
# face on a tile border is whole in at least one tile.
TILE_OVERLAP = 0.15
# Faces at least this big (in the pixels the base pass sees) are found by the
# base pass; the enlarged pass is only trusted below it.
SMALL_FACE_PX = 48
# A box larger than this share of the frame's shorter side needs this confidence.
LARGE_FACE_FRACTION = 0.4
LARGE_FACE_MIN_SCORE = 0.5

Infer = Callable[[NDArray[np.uint8]], Detections]


def fit_scale(height: int, width: int, input_size: int) -> float:
    """Factor that brings the longest side down to ``input_size`` (never enlarges).

    ``input_size`` 0 means full resolution.
    """
    longest = max(height, width)
    if input_size <= 0 or longest <= input_size:
        return 1.0
    return input_size / longest


def resize_padded(rgb: NDArray[np.uint8], scale: float) -> tuple[NDArray[np.uint8], int, int]:
    """The frame resized by ``scale`` and padded right and bottom to a multiple of 32.

    Padding at the far edges keeps the top-left origin, so mapping boxes back is
    a single division by ``scale``.

    Returns:
        The padded image and the height and width of its unpadded part.
    """
    height, width = rgb.shape[:2]
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    if (new_h, new_w) != (height, width):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        rgb = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    pad_h, pad_w = -new_h % STRIDE, -new_w % STRIDE
    if pad_h or pad_w:
        rgb = cv2.copyMakeBorder(rgb, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=0)
    return np.ascontiguousarray(rgb), new_h, new_w


def nms(dets: Detections, iou_threshold: float) -> Detections:
    """The highest-scoring boxes, dropping any that overlap a better one by more
    than ``iou_threshold``."""
    order = np.argsort(-dets.score, kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        order = rest[box_iou(dets.xyxy[best : best + 1], dets.xyxy[rest])[0] <= iou_threshold]
    return dets[np.asarray(keep, dtype=np.intp)]


def clip_valid(dets: Detections, height: int, width: int) -> Detections:
    """Boxes clipped to the image, without those left with no area (e.g. in padding)."""
    xyxy = np.clip(dets.xyxy, 0, [width, height, width, height])
    keep = (xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1])
    return Detections(xyxy, dets.score, dets.landmarks)[keep]


def shifted(dets: Detections, dx: float, dy: float) -> Detections:
    """The same boxes moved by (dx, dy) pixels."""
    offset = np.array([dx, dy], np.float32)
    landmarks = None if dets.landmarks is None else dets.landmarks + offset
    return Detections(dets.xyxy + np.tile(offset, 2), dets.score, landmarks)


def mirrored(dets: Detections, width: int) -> Detections:
    """The same boxes in the left-right mirrored image of ``width`` pixels.

    Landmarks keep their order of points (the mirror of a left eye is where
    the right eye was, but it is listed first again), so that both passes
    agree on which point is which side of the face.
    """
    xyxy = np.stack(
        [width - dets.xyxy[:, 2], dets.xyxy[:, 1], width - dets.xyxy[:, 0], dets.xyxy[:, 3]], 1
    )
    landmarks = None
    if dets.landmarks is not None:
        points = dets.landmarks.copy()
        points[:, :, 0] = width - points[:, :, 0]
        landmarks = points[:, [1, 0, 2, 4, 3]]
    return Detections(xyxy, dets.score, landmarks)


def with_mirror(infer: Infer) -> Infer:
    """``infer`` on an image and on its mirror image, the finds of both in image pixels."""

    def both(image: NDArray[np.uint8]) -> Detections:
        flipped = np.ascontiguousarray(image[:, ::-1])
        return Detections.concat([infer(image), mirrored(infer(flipped), image.shape[1])])

    return both


def detect_scaled(rgb: NDArray[np.uint8], scale: float, infer: Infer) -> Detections:
    """Faces found by ``infer`` in the frame resized by ``scale``, in frame pixels."""
    image, valid_h, valid_w = resize_padded(rgb, scale)
    return clip_valid(infer(image), valid_h, valid_w).scaled(1 / scale)


def tile_spans(length: int, window: int, overlap: float) -> list[tuple[int, int]]:
    """(start, size) of the fewest windows of at most ``window`` pixels covering
    ``length`` pixels, of equal size, neighbours overlapping by at least ``overlap``
    of a window (so the model's work is not spent twice on wide overlaps)."""
    if length <= window:
        return [(0, length)]
    count = math.ceil((length - window * overlap) / (window * (1 - overlap)))
    size = min(window, math.ceil(length / (count - (count - 1) * overlap)))
    last = length - size
    return [(round(last * k / (count - 1)), size) for k in range(count)]


def detect_enlarged(
    rgb: NDArray[np.uint8], upscale: float, input_size: int, infer: Infer
) -> Detections:
    """Faces found in the frame enlarged by ``upscale``, in tiles of up to ``input_size``.

    Each tile is cut from the original frame and enlarged on its own, so the
    whole enlarged frame is never held in memory.
    """
    height, width = rgb.shape[:2]
    window = max(height, width) if input_size <= 0 else max(1, int(input_size / upscale))
    parts = []
    for (y0, tile_h), (x0, tile_w) in itertools.product(
        tile_spans(height, window, TILE_OVERLAP), tile_spans(width, window, TILE_OVERLAP)
    ):
        tile = rgb[y0 : y0 + tile_h, x0 : x0 + tile_w]
        parts.append(shifted(detect_scaled(tile, upscale, infer), x0, y0))
    return Detections.concat(parts)


def search_frame(
    rgb: NDArray[np.uint8], infer: Infer, input_size: int, upscale: float, nms_iou: float
) -> Detections:
    """All faces in a frame: one pass at ``input_size``, plus an enlarged pass.

    Args:
        rgb: (H, W, 3) uint8 frame.
        infer: runs the model on a padded image and returns boxes in its pixels.
        input_size: longest side the frame is brought down to (0 = full resolution).
        upscale: above 1, the frame is also searched enlarged by this factor and
            the results merged.
        nms_iou: overlap above which two boxes are taken to be the same face.

    Returns:
        Detections in pixels of ``rgb``.
    """
    height, width = rgb.shape[:2]
    scale = fit_scale(height, width, input_size)
    # implausible boxes go first, so that none of them suppresses a real face
    # (in the overlap test below, or in the suppression)
    found = plausible(detect_scaled(rgb, scale, infer), height, width)
    if upscale > 1:
        enlarged = plausible(detect_enlarged(rgb, upscale, input_size, infer), height, width)
        found = Detections.concat([found, small_faces_only(enlarged, found, scale)])
    return nms(found, nms_iou)


def plausible(dets: Detections, height: int, width: int) -> Detections:
    """Drop huge boxes the model is unsure of.

    Measured on the video evaluation: real faces filling much of the frame
    score about 0.99, while boxes that size at low confidence were noise
    (a dark wall, a motion-blurred torso) that blurred a large part of the
    frame. Small uncertain boxes are kept: that is where real faces hide.
    """
    if len(dets) == 0:
        return dets
    sizes = np.maximum(dets.xyxy[:, 2] - dets.xyxy[:, 0], dets.xyxy[:, 3] - dets.xyxy[:, 1])
    huge = sizes > LARGE_FACE_FRACTION * min(height, width)
    return dets[~(huge & (dets.score < LARGE_FACE_MIN_SCORE))]


def small_faces_only(enlarged: Detections, base: Detections, base_scale: float) -> Detections:
    """Keep the enlarged pass's finds that the base pass could not make.

    Tiles cut large faces into pieces that look like faces too; the base pass
    sees those whole. So an enlarged-pass box is kept only if it is small
    (under ``SMALL_FACE_PX`` in the base pass's pixels) and not mostly inside
    a base-pass box at least as confident (a weak base box, asked for as weak
    evidence, says less than a sure small face inside it).
    """
    if len(enlarged) == 0:
        return enlarged
    sizes = np.maximum(
        enlarged.xyxy[:, 2] - enlarged.xyxy[:, 0], enlarged.xyxy[:, 3] - enlarged.xyxy[:, 1]
    )
    keep = sizes * base_scale < SMALL_FACE_PX
    if len(base):
        inside = containment(enlarged.xyxy, base.xyxy) >= 0.5
        surer = base.score[None, :] >= enlarged.score[:, None]
        keep &= ~(inside & surer).any(axis=1)
    return enlarged[keep]


def containment(inner: NDArray[np.floating], outer: NDArray[np.floating]) -> NDArray[np.float64]:
    """(N, M): the share of each ``inner`` box's area that lies inside each ``outer`` box."""
    x0 = np.maximum(inner[:, None, 0], outer[None, :, 0])
    y0 = np.maximum(inner[:, None, 1], outer[None, :, 1])
    x1 = np.minimum(inner[:, None, 2], outer[None, :, 2])
    y1 = np.minimum(inner[:, None, 3], outer[None, :, 3])
    overlap = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (inner[:, 2] - inner[:, 0]) * (inner[:, 3] - inner[:, 1])
    return overlap / np.maximum(area[:, None], 1e-6)
