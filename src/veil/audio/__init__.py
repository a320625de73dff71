"""Audio redaction: spans of the sound track to hide, and finding what to hide.

Pure logic only; decoding and encoding sound is :mod:`veil.media.audio`'s.
"""

from veil.audio.spans import (
    AudioSpan,
    Effect,
    SpanRedaction,
    format_time,
    merged,
    parse_span,
    parse_time,
)

__all__ = [
    "AudioSpan",
    "Effect",
    "SpanRedaction",
    "format_time",
    "merged",
    "parse_span",
    "parse_time",
]
