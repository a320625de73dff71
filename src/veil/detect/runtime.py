"""What both ONNX detectors share: their packaged weights, and the model run on a frame.

The model runs on the runtime :mod:`veil.detect.choice` picks (see
:mod:`veil.detect.runners`); :func:`search_frame` does the scaling, tiling and
suppression around it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from veil.detect.boxes import search_frame, with_mirror
from veil.detect.choice import load_runner
from veil.detect.config import DetectorConfig
from veil.types import Detections


class OnnxDetector:
    """A face detector on one loaded model: loading, and the frame search.

    Subclasses give ``name``, ``nms_iou``, ``outputs`` (the model's output
    names) and ``_decode`` (boxes from one image's outputs);
    :func:`search_frame` does the scaling, tiling and suppression around it.
    """

    name: str
    nms_iou: float
    outputs: tuple[str, ...]

    def __init__(
        self, config: DetectorConfig, model: bytes, bgr_mean: Sequence[float] | None = None
    ) -> None:
        self.config = config
        self._runner = load_runner(model, bgr_mean, self.outputs, config)

    @property
    def runtime(self) -> str:
        """The runtime that runs the model (``onnxruntime`` or ``openvino``)."""
        return self._runner.runtime

    def _decode(
        self, outputs: list[NDArray[np.float32]], height: int, width: int, threshold: float
    ) -> Detections:
        """Boxes from the outputs for one ``height`` x ``width`` image (batch axis
        removed), in its pixels."""
        raise NotImplementedError

    def _infer(self, image: NDArray[np.uint8], threshold: float) -> Detections:
        outputs = self._runner.run(image[None])
        height, width = image.shape[:2]
        return self._decode([output[0] for output in outputs], height, width, threshold)

    def detect(
        self, rgb: NDArray[np.uint8], threshold: float | None = None, upscale: float | None = None
    ) -> Detections:
        """Faces in an (H, W, 3) uint8 RGB frame, boxes in that frame's pixels."""
        config = self.config
        chosen = config.threshold if threshold is None else threshold
        infer = functools.partial(self._infer, threshold=chosen)
        if config.mirror:
            infer = with_mirror(infer)
        enlarge = config.upscale if upscale is None else upscale
        return search_frame(rgb, infer, config.input_size, enlarge, self.nms_iou)
