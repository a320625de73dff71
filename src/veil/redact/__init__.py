"""Stage 6: hide faces in a frame."""

from veil.redact.effects import (
    DEFAULT_MASK_SCALE,
    MaskShape,
    RedactionConfig,
    mask_extent,
    redact_frame,
    redact_planes,
)

__all__ = [
    "DEFAULT_MASK_SCALE",
    "MaskShape",
    "RedactionConfig",
    "mask_extent",
    "redact_frame",
    "redact_planes",
]
