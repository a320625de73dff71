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

DEFAULT_QUALITY = Quality.BALANCED
# Live streams must keep up with the camera: the fastest profile.
LIVE_QUALITY = Quality.FAST


def profile(quality: Quality) -> PipelineConfig:
    """The settings of the ``quality`` profile."""
    base = PipelineConfig()
    if quality is Quality.FAST:
        return base
    if quality is Quality.BALANCED:
        return base
    return replace(base, detect_every=1, detector=replace(base.detector, name="fused"))
