"""Quality profiles: how hard faces are searched for, as whole pipeline settings.

Each profile is a :class:`PipelineConfig`; options a user gives on top of one
override its settings (:func:`veil.pipeline.options.build_config`). The
blur and mask are the same in every profile: how well a covered face is
hidden does not depend on how much time is spent finding it.
Measured with ``make eval-real`` and ``make bench`` (README, Profiles).
"""

from __future__ import annotations

from dataclasses import replace

from veil.pipeline.config import PipelineConfig
from veil.settings import Quality
from veil.track.recurrence import RecurrenceConfig

DEFAULT_QUALITY = Quality.BALANCED
# Live streams must keep up with the camera: the fastest profile.
LIVE_QUALITY = Quality.FAST
# The Face Detector reports who is on screen and how they react: there a face-like
# patch counted as a person is a wrong answer, not a safe one, so no weak faces.
FACE_DETECTOR_QUALITY = Quality.FAST


# weak evidence as the balanced and thorough profiles count it: a face-like box
# scoring 0.05 or more on three detection frames in a row, at one place, is a face.
# make eval-real (25 photos, one run): 6.5 -> 3.8 % of face-frames leaked (faces under
# 24 px 8.8 -> 5.4 %), for 4.1 -> 6.5 % of the background altered and 1.5x the time
WEAK_FACES = RecurrenceConfig(frames=3, threshold=0.05)


def profile(quality: Quality) -> PipelineConfig:
    """The settings of the ``quality`` profile.

    fast: RetinaFace on every second frame, the tracker in between. balanced: that, and
    weak faces that recur count (:data:`WEAK_FACES`). thorough: that, with both
    detectors fused, on every frame.
    """
    fast = PipelineConfig()
    if quality is Quality.FAST:
        return fast
    balanced = replace(fast, recurrence=WEAK_FACES)
    if quality is Quality.BALANCED:
        return balanced
    return replace(balanced, detect_every=1, detector=replace(fast.detector, name="fused"))
