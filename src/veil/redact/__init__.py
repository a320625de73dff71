"""Stage 6: hide faces in a frame."""

from veil.redact.effects import MaskShape, RedactionConfig, redact_frame

__all__ = ["MaskShape", "RedactionConfig", "redact_frame"]
