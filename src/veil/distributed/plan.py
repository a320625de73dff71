"""Where to cut a video: segments that start at keyframes, each with overlap windows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

from veil.media.segments import FrameIndex
from veil.track import FaceTracker, TrackerConfig


@dataclass(frozen=True)
class Segment:
    """One part of a video: the frames it owns and the frames it analyses.

    Attributes:
        number: 0-based position in the video.
        start, stop: the owned frames ``[start, stop)``; ``start`` is a keyframe.
            Every frame is owned by exactly one segment; the owner renders it.
        window_start, window_stop: the analysed frames, the owned ones plus
            ``overlap`` frames of context on each side (clipped to the video).
    """

    number: int
    start: int
    stop: int
    window_start: int
    window_stop: int

    @property
    def frames(self) -> int:
        return self.stop - self.start

    @property
    def window_frames(self) -> int:
        return self.window_stop - self.window_start


def overlap_frames(tracker: TrackerConfig, detect_every: int) -> int:
    """Context a segment needs on each side to decide its own frames as a whole-video run.

    The tracker's look-ahead: a frame's boxes are final once detections that
    many frames later are known (a face may still be found there and padded or
    interpolated back), and the same span before a frame holds every detection
    that can reach it (``max_gap`` of interpolation, ``pad_frames`` of padding).
    """
    return FaceTracker(tracker, stride=max(1, detect_every)).lookahead


def plan_segments(index: FrameIndex, segment_seconds: float, overlap: int) -> list[Segment]:
    """Cut at the first keyframe at least ``segment_seconds`` after the previous cut.

    A segment is never shorter than ``overlap`` frames (a shorter tail joins
    the segment before it), so a frame's context lies in at most its two
    neighbours. A video with no keyframe past the first is one segment.
    """
    count = len(index)
    target = Fraction(segment_seconds).limit_denominator(1000)
    shortest = max(1, overlap)
    cuts = [0]
    for key in index.keyframes:
        if key - cuts[-1] < shortest or count - key < shortest:
            continue
        if index.time(key) - index.time(cuts[-1]) >= target:
            cuts.append(key)
    bounds = [*cuts, count]
    return [
        Segment(
            number=n,
            start=start,
            stop=stop,
            window_start=max(0, start - overlap),
            window_stop=min(count, stop + overlap),
        )
        for n, (start, stop) in enumerate(itertools.pairwise(bounds))
    ]
