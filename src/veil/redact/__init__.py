"""Stage 6: hide faces in a frame."""

from veil.redact.effects import MaskShape, RedactionConfig, redact_frame, redact_planes

__all__ = ["MaskShape", "RedactionConfig", "redact_frame", "redact_planes"]
