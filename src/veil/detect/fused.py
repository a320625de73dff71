"""Two detectors as one: RetinaFace and CenterFace on the same frame, boxes fused.

The two models miss different faces (CenterFace more of the small and soft
ones, RetinaFace more of the large, turned and partly covered ones), so the
union of their finds reaches faces neither finds alone. Where both find the
same face, the better-scoring box is kept (non-maximum suppression at
``FUSED_NMS_IOU``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from veil.detect.boxes import nms
from veil.detect.config import FaceDetector
from veil.types import Detections

FUSED_NMS_IOU = 0.4


class FusedDetector:
    """Every face any of ``detectors`` finds; satisfies :class:`veil.detect.FaceDetector`."""

    name = "fused"

    def __init__(self, detectors: Sequence[FaceDetector]) -> None:
        self.detectors = tuple(detectors)

    def detect(
        self, rgb: NDArray[np.uint8], threshold: float | None = None, upscale: float | None = None
    ) -> Detections:
        found = [d.detect(rgb, threshold=threshold, upscale=upscale) for d in self.detectors]
        return nms(Detections.concat(found), FUSED_NMS_IOU)
