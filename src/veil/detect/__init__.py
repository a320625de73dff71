"""Stage 2: find faces in a frame.

Every detector satisfies :class:`FaceDetector`; :func:`load_detector` builds one
from a :class:`DetectorConfig` once, and the pipeline calls ``detect`` per frame.
"""

from veil.detect.config import (
    DETECTOR_NAMES,
    MODEL_NAMES,
    RUNTIME_NAMES,
    DetectorConfig,
    FaceDetector,
    models_of,
)
from veil.detect.load import load_detector

__all__ = [
    "DETECTOR_NAMES",
    "MODEL_NAMES",
    "RUNTIME_NAMES",
    "DetectorConfig",
    "FaceDetector",
    "load_detector",
    "models_of",
]
