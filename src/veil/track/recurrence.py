"""Weak evidence accumulated over time: a face too faint to trust once, found again and again.

A detector scores a soft, dark or turned face below its threshold on most
frames, and such a face is never blurred if a track needs one confident
detection to start. Noise below the threshold (a patterned shirt, foliage)
rarely stays put; a face does. :class:`RecurringFaces` links the weak
detections of successive detection frames by overlap into *chains*: a chain
found on ``frames`` detection frames running (a single miss is forgiven) is
taken for a face, and from then on its detections are handed to the tracker
like confident ones (which starts a track, searched backwards as any new one).

Chains that recur but never reach ``frames`` are kept as *candidates*: spans
that looked like a face for a moment, listed for a reviewer to look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from veil.geometry import box_iou
from veil.track.association import assign
from veil.types import Detections, FaceTrack

# Weak detections that link into one chain overlap at least this much.
_MIN_IOU = 0.3
# A chain survives this many detection frames without a match.
_MAX_MISSES = 1


@dataclass(frozen=True)
class RecurrenceConfig:
    """When repeated weak detections count as a face.

    Attributes:
        frames: detection frames a weak detection must recur on (0 = off).
        threshold: the weakest score considered at all.
        candidates: chains of at least this many detections that never
            counted are listed as candidates for review (0 = none).
    """

    frames: int = 0
    threshold: float = 0.1
    candidates: int = 2


@dataclass
class _Chain:
    frames: list[int] = field(default_factory=list)
    boxes: list[NDArray[np.float32]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    misses: int = 0
    counted: bool = False


class RecurringFaces:
    """Links weak detections over detection frames; says which now count as faces."""

    def __init__(self, config: RecurrenceConfig) -> None:
        self.config = config
        self._chains: list[_Chain] = []
        self._candidates: list[FaceTrack] = []

    def update(self, frame: int, weak: Detections, taken: NDArray[np.float32]) -> Detections:
        """Link ``weak`` (this frame's detections below the threshold) into chains.

        Weak boxes overlapping a ``taken`` box (a face already found) are the
        same face and are ignored. Returns the weak detections that now count
        as faces: those of chains found on ``config.frames`` frames or more.
        """
        if len(weak) and len(taken):
            weak = weak[box_iou(weak.xyxy, taken).max(axis=1) < _MIN_IOU]
        last = np.array([c.boxes[-1] for c in self._chains], np.float32).reshape(-1, 4)
        overlap = box_iou(last, weak.xyxy)
        cost = np.where(overlap >= _MIN_IOU, 1.0 - overlap, np.inf).astype(np.float32)
        matched_chains, matched_dets = set(), set()
        for row, col in assign(cost):
            chain = self._chains[row]
            chain.frames.append(frame)
            chain.boxes.append(weak.xyxy[col])
            chain.scores.append(float(weak.score[col]))
            chain.misses = 0
            matched_chains.add(row)
            matched_dets.add(col)
        alive = []
        for row, chain in enumerate(self._chains):
            if row not in matched_chains:
                chain.misses += 1
            if chain.misses <= _MAX_MISSES:
                alive.append(chain)
            else:
                self._retire(chain)
        for col in range(len(weak)):
            if col not in matched_dets:
                alive.append(_Chain([frame], [weak.xyxy[col]], [float(weak.score[col])]))
        self._chains = alive
        counted = []
        needed = self.config.frames
        for chain in self._chains:
            if needed and chain.frames[-1] == frame and len(chain.frames) >= needed:
                chain.counted = True
                counted.append((chain.boxes[-1], chain.scores[-1]))
        if not counted:
            return Detections.empty()
        return Detections(np.stack([b for b, _ in counted]), np.array([s for _, s in counted]))

    def _retire(self, chain: _Chain) -> None:
        if not chain.counted and 0 < self.config.candidates <= len(chain.frames):
            self._candidates.append(
                FaceTrack(
                    len(self._candidates) + 1,
                    np.array(chain.frames, np.int64),
                    np.stack(chain.boxes),
                    np.ones(len(chain.frames), bool),
                    np.array(chain.scores, np.float32),
                )
            )

    def candidates(self) -> list[FaceTrack]:
        """Every chain that recurred but never counted, ended so far (all, after
        ``close``), numbered from 1; only their detection frames have boxes."""
        return list(self._candidates)

    def close(self) -> None:
        """No more frames: every chain ends."""
        for chain in self._chains:
            self._retire(chain)
        self._chains = []
