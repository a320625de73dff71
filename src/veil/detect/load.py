"""Build the detector a :class:`DetectorConfig` names, with its model loaded."""

from __future__ import annotations

from veil.detect.centerface import CenterFaceDetector
from veil.detect.config import DETECTOR_NAMES, DetectorConfig, FaceDetector, models_of
from veil.detect.fused import FusedDetector
from veil.detect.retinaface import RetinaFaceDetector
from veil.errors import VeilError


def load_detector(config: DetectorConfig) -> FaceDetector:
    """The detector named by ``config``, with its model loaded.

    Raises:
        VeilError: unknown name, or the package holding the weights is not installed.
        VeilError: the requested device is not available.
    """
    if config.name not in DETECTOR_NAMES:
        raise VeilError(
            f"unknown detector {config.name!r}: choose one of {', '.join(DETECTOR_NAMES)}"
        )
    models = {"centerface": CenterFaceDetector, "retinaface": RetinaFaceDetector}
    loaded = [models[name](config) for name in models_of(config.name)]
    return loaded[0] if len(loaded) == 1 else FusedDetector(loaded)
