"""Choices a user makes, shared by the CLI, presets and the service.

Values are lower-case; parsing is case-insensitive because Azure presets wrote
them capitalised ("Combined", "High").
"""

from __future__ import annotations

from enum import StrEnum


class _Choice(StrEnum):
    @classmethod
    def _missing_(cls, value: object) -> _Choice | None:
        if isinstance(value, str):
            folded = value.strip().lower()
            for member in cls:
                if member.value == folded:
                    return member
        return None

    @classmethod
    def values(cls) -> str:
        """The valid values, for error messages: ``"a, b, c"``."""
        return ", ".join(member.value for member in cls)


class Mode(_Choice):
    """What a run does, as Azure Media Redactor's modes."""

    ANALYZE = "analyze"  # find faces, write annotations
    REDACT = "redact"  # apply given annotations (and ID list) to the video
    COMBINED = "combined"  # both in one pass, no review


class BlurType(_Choice):
    """How a face is hidden: Azure's five kinds plus pixelate."""

    LOW = "low"
    MED = "med"
    HIGH = "high"
    BOX = "box"  # outline only, for checking results; hides nothing
    BLACK = "black"
    PIXELATE = "pixelate"


class Quality(_Choice):
    """How hard faces are searched for: the detection profiles (``veil.pipeline.profiles``)."""

    FAST = "fast"
    BALANCED = "balanced"
    THOROUGH = "thorough"
