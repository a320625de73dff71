"""Audio spans: stretches of the sound track to hide, and hiding them in samples.

Pure maths on numbers and arrays: times in seconds on the media timeline (the
same timeline as the video frames' times), samples as float arrays shaped
(channels, samples). Decoding and encoding are :mod:`veil.media.audio`'s.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from veil.errors import VeilError


class Effect(StrEnum):
    """What replaces the sound inside a span."""

    MUTE = "mute"  # silence
    BLEEP = "bleep"  # the broadcast censor's 1 kHz tone, loud
    TONE = "tone"  # a quiet low tone: marks the cut without startling


# (frequency in Hz, peak amplitude of full scale) of each effect's sine
_SINES = {Effect.BLEEP: (1000.0, 0.3), Effect.TONE: (440.0, 0.1)}


@dataclass(frozen=True)
class AudioSpan:
    """``[start, end)`` seconds of the sound replaced by ``effect``.

    Attributes:
        start, end: seconds on the media timeline, ``0 <= start < end``.
        effect: what is heard instead.
        by: who added it: ``manual`` (a person), or the suggester that
            proposed it (``digits``, ``letters``, ``terms``).
        reason: why, in words (the words heard, the term matched).
    """

    start: float
    end: float
    effect: Effect = Effect.MUTE
    by: str = "manual"
    reason: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise VeilError(f"audio span {self.start}-{self.end}: times must be finite")
        if self.start < 0 or self.end <= self.start:
            raise VeilError(
                f"audio span {format_time(self.start)}-{format_time(self.end)}: "
                "the end must come after the start, and the start at 0 or later"
            )


_TIME = re.compile(r"(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d*)?|\.\d+)")


def parse_time(text: str) -> float:
    """Seconds from ``12.5``, ``1:02.3`` or ``1:00:02.3``.

    Raises:
        VeilError: not such a time (named).
    """
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise VeilError(f"{text!r} is not a time (write seconds, m:ss.s or h:mm:ss.s)")
    hours, minutes, seconds = match.groups()
    if (hours or minutes) and float(seconds) >= 60:
        raise VeilError(f"{text!r} is not a time: seconds must be under 60 after a colon")
    if hours and int(minutes) >= 60:
        raise VeilError(f"{text!r} is not a time: minutes must be under 60 after hours")
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)


def parse_span(text: str, effect: Effect, reason: str = "") -> AudioSpan:
    """An :class:`AudioSpan` from ``START-END`` (each as :func:`parse_time` reads)."""
    start, sep, end = text.partition("-")
    if not sep:
        raise VeilError(f"{text!r} is not a span (write START-END, e.g. 12.5-14 or 1:02-1:03.5)")
    return AudioSpan(parse_time(start), parse_time(end), effect, "manual", reason)


def format_time(seconds: float) -> str:
    """``62.3`` -> ``1:02.300``; under a minute, plain seconds."""
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:06.3f}" if minutes else f"{rest:.3f}"


def merged(spans: Iterable[AudioSpan]) -> list[AudioSpan]:
    """Spans sorted by start; where two overlap, the stronger effect wins the overlap.

    Mute beats bleep beats tone: either way the words are gone, and silence
    leaves the least behind. The result does not overlap.
    """
    strength = {Effect.MUTE: 0, Effect.BLEEP: 1, Effect.TONE: 2}
    cuts = sorted({t for s in spans for t in (s.start, s.end)})
    pieces: list[AudioSpan] = []
    ordered = sorted(spans, key=lambda s: strength[s.effect])
    for start, end in itertools.pairwise(cuts):
        over = next((s for s in ordered if s.start <= start and end <= s.end), None)
        if over is None:
            continue
        last = pieces[-1] if pieces else None
        if last is not None and last.end == start and last.effect == over.effect:
            pieces[-1] = AudioSpan(last.start, end, over.effect, last.by, last.reason)
        else:
            pieces.append(AudioSpan(start, end, over.effect, over.by, over.reason))
    return pieces


def sample_range(span: AudioSpan, rate: int) -> tuple[int, int]:
    """The samples ``[first, stop)`` a span covers at ``rate`` Hz.

    A sample is inside when the time it is played at is inside the span; the
    nearest sample boundary is taken for each end, so an edge is never more
    than half a sample from the time asked for.
    """
    return round(span.start * rate), round(span.end * rate)


def effect_samples(effect: Effect, first: int, count: int, rate: int) -> NDArray[np.float32]:
    """``count`` samples of ``effect`` starting at sample ``first`` (continuous phase)."""
    if effect == Effect.MUTE:
        return np.zeros(count, np.float32)
    hz, peak = _SINES[effect]
    t = (first + np.arange(count)) / rate
    return (peak * np.sin(2 * np.pi * hz * t)).astype(np.float32)


class SpanRedaction:
    """Replaces the samples inside spans, block by block as a stream is decoded.

    Called with each block of samples (channels, n), the index on the media
    timeline of its first sample and the rate; returns the block with every
    sample inside a span replaced and every other sample left as it was.
    """

    def __init__(self, spans: Sequence[AudioSpan]) -> None:
        self.spans = merged(spans)

    def __call__(self, samples: NDArray, first: int, rate: int) -> NDArray:
        stop = first + samples.shape[-1]
        for span in self.spans:
            lo, hi = sample_range(span, rate)
            lo, hi = max(lo, first), min(hi, stop)
            if lo >= hi:
                continue
            fill = effect_samples(span.effect, lo, hi - lo, rate)
            samples[..., lo - first : hi - first] = _scaled(fill, samples.dtype)
        return samples

    def __bool__(self) -> bool:
        return bool(self.spans)


def _scaled(fill: NDArray[np.float32], dtype: np.dtype) -> NDArray:
    """Float samples in -1..1 as ``dtype`` (integer PCM is scaled to its range)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.round(fill * info.max).astype(dtype)
    return fill.astype(dtype)
