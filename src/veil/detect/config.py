"""What a face detector is, and the settings that build one.

Every detector satisfies :class:`FaceDetector`; :class:`DetectorConfig` names
one and how it searches (see :func:`veil.detect.load.load_detector`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from veil.types import Detections

# The models, and the detectors: each model alone, or "fused": both on every
# frame, boxes fused (veil.detect.fused).
MODEL_NAMES = ("centerface", "retinaface")
DETECTOR_NAMES = (*MODEL_NAMES, "fused")
RUNTIME_NAMES = ("auto", "onnxruntime", "openvino")


class FaceDetector(Protocol):
    name: str

    def detect(
        self, rgb: NDArray[np.uint8], threshold: float | None = None, upscale: float | None = None
    ) -> Detections:
        """Faces in an (H, W, 3) uint8 RGB frame, boxes in that frame's pixels.

        ``threshold`` and ``upscale`` override the configured ones for this call.
        """
        ...


@dataclass(frozen=True)
class DetectorConfig:
    """How faces are searched for.

    Attributes:
        name: which model (see ``DETECTOR_NAMES``).
        threshold: minimum confidence kept; lower finds more faces and more false alarms.
        input_size: longest side, in pixels, of the downscaled frame the model sees
            (0 = full resolution). Smaller is faster and misses small faces.
        upscale: search the frame enlarged by this factor as well (>1 reaches faces
            down to about 12 px at the cost of speed), 1 = off.
        device: "cpu", "cuda" or "auto".
        runtime: what runs the model on the CPU: "onnxruntime", "openvino", or
            "auto" (the faster of the two for the same outputs, checked once per
            machine and cached; see ``veil.detect.choice``).
        threads: onnxruntime intra-op threads; 0 = one per core this process may use.
        mirror: also search the mirrored frame (finds some turned faces the
            model misses one way round), at twice the cost.
    """

    # Chosen with bench/eval_detect.py (WIDER dev enlarged to 720p width, one core):
    # RetinaFace at 960 px found 77% of scored faces in ~30 ms per 720p frame,
    # CenterFace 70% at 640 px (~25 ms) and 79% at 800 px (~43 ms); RetinaFace also
    # found more occluded close-ups. 0.2 buys recall with false alarms. 1280 px
    # rather than 960 because bench/eval_video.py measured a 35 px face in a crowd
    # leaking for 69 frames at 960 and never at 1280 (crowd leaks 6.9 % -> 0 %).
    name: str = "retinaface"
    threshold: float = 0.2
    input_size: int = 1280
    upscale: float = 1.0
    device: str = "auto"
    runtime: str = "auto"
    # All cores: measured with veil combined on 2 cores (one run), 2 threads
    # against 1 gave 1.42x on 720p and 1.33x on 1080p; the codec threads are
    # mostly idle while the detector runs.
    threads: int = 0
    mirror: bool = False


def models_of(name: str) -> tuple[str, ...]:
    """The models the detector ``name`` runs."""
    return MODEL_NAMES if name == "fused" else (name,)
