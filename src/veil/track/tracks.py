"""One track: a face's detections, and its box on any frame between and around them.

Between two detections the box is interpolated; before the first and after
the last it coasts along the face's motion, growing a little each frame
(:func:`coast`), for as many frames as the tracker pads (``pad`` of
:meth:`Track.face_at`). Which detections make a track is
:class:`veil.track.tracker.FaceTracker`'s business.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

# A coasting box grows by this share of its size per unseen frame.
_COAST_GROWTH = 0.03
# A track's motion before its first detection is also taken over up to this many detections.
_START_VELOCITY_SPAN = 4
# A face back from hiding is looked for along its motion over this many frames.
_COMEBACK_SPAN = 25
# A track's look is the mean of its latest this many looks.
_LOOK_MEMORY = 8


@dataclass(frozen=True)
class TrackedFace:
    """A face's box in one frame, in the coordinates the detector was given."""

    track_id: int
    xyxy: tuple[float, float, float, float]
    detected: bool
    score: float
    # what the face looked like on this frame (a detection the tracker matched), if known
    look: NDArray[np.float32] | None = field(default=None, compare=False, repr=False)


@dataclass
class Track:
    """One face's detections, and its box on any frame between and around them."""

    track_id: int
    frames: list[int] = field(default_factory=list)
    boxes: list[NDArray[np.float32]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    # per detection: its look, where the face was clear of others (None otherwise)
    looks: list[NDArray[np.float32] | None] = field(default_factory=list)
    velocity: NDArray[np.float32] = field(default_factory=lambda: np.zeros(4, np.float32))
    ended: bool = False
    # the last frame the whole-frame detector (or a sure search) found this face
    confirmed: int = -1
    # a later track took over this one's ID (it came back from hiding)
    relinked: bool = False
    # the shot this face is in: from its first frame to before the next cut
    shot_start: int = 0
    shot_end: int | None = None

    def add(
        self,
        frame: int,
        box: NDArray[np.float32],
        score: float,
        look: NDArray[np.float32] | None = None,
    ) -> None:
        if self.frames:
            step = (box - self.boxes[-1]) / (frame - self.frames[-1])
            # smoothed so one jittery detection does not fling the prediction
            self.velocity = 0.5 * self.velocity + 0.5 * step
        self.frames.append(frame)
        self.boxes.append(box)
        self.scores.append(score)
        self.looks.append(look)

    def look(self) -> NDArray[np.float32] | None:
        """The mean of the track's latest looks (cell by cell, over those that show it)."""
        recent = [look for look in reversed(self.looks) if look is not None][:_LOOK_MEMORY]
        if not recent:
            return None
        stacked = np.stack(recent)
        shown = np.isfinite(stacked)
        total = np.where(shown, stacked, 0.0).sum(axis=0)
        count = shown.sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan).astype(np.float32)

    def predict(self, frame: int) -> NDArray[np.float32]:
        return self.boxes[-1] + self.velocity * (frame - self.frames[-1])

    def comeback_box(self, frame: int) -> NDArray[np.float32]:
        """Where the whole face would be on ``frame`` had it walked on unseen.

        From its recent full-size views only: going behind something, the
        visible part of a face shrinks and slows, which says nothing of the
        face itself.
        """
        recent = [k for k, f in enumerate(self.frames) if self.frames[-1] - f <= _COMEBACK_SPAN]
        sizes = [
            max(self.boxes[k][2] - self.boxes[k][0], self.boxes[k][3] - self.boxes[k][1])
            for k in recent
        ]
        whole = [k for k, size in zip(recent, sizes, strict=True) if size >= 0.8 * max(sizes)]
        first, last = self.boxes[whole[0]], self.boxes[whole[-1]]
        span = self.frames[whole[-1]] - self.frames[whole[0]]
        centre = (last[:2] + last[2:]) / 2
        if span:
            centre = centre + ((last[:2] + last[2:]) - (first[:2] + first[2:])) / 2 / span * (
                frame - self.frames[whole[-1]]
            )
        half = (last[2:] - last[:2]) / 2
        return np.concatenate([centre - half, centre + half]).astype(np.float32)

    def _start_velocities(self) -> list[NDArray[np.float32]]:
        """Guesses at the face's motion before its first detection: none (it
        stood still), from the first two detections (right for a face that
        moves fast and slows down) and over the first few (right for a weak
        face whose neighbouring boxes jitter by more than it moves)."""
        still = np.zeros(4, np.float32)
        if len(self.frames) < 2:
            return [still]
        k = min(len(self.frames) - 1, _START_VELOCITY_SPAN)
        return [still] + [
            (self.boxes[i] - self.boxes[0]) / (self.frames[i] - self.frames[0]) for i in (1, k)
        ]

    def _end_velocities(self) -> list[NDArray[np.float32]]:
        """Guesses at the face's motion after its last detection: none, smoothed and latest.

        None, because a face the detector loses is often one that stopped or
        turned (a head turning at the frame's edge): the box keeps covering
        where it was last seen and stretches along its motion, growing with
        its speed, rather than drifting off along an extrapolated path.
        """
        still = np.zeros(4, np.float32)
        if len(self.frames) < 2:
            return [still, self.velocity]
        latest = (self.boxes[-1] - self.boxes[-2]) / (self.frames[-1] - self.frames[-2])
        return [still, self.velocity, latest]

    def face_at(self, frame: int, pad: int) -> TrackedFace | None:
        """The box on ``frame``: detected, interpolated, or coasted up to ``pad``
        frames before the first detection or after the last; None beyond those
        or outside the track's shot."""
        first, last = self.frames[0], self.frames[-1]
        if frame < first - pad or frame > last + pad:
            return None
        if frame < self.shot_start or (self.shot_end is not None and frame >= self.shot_end):
            return None
        k = bisect.bisect_left(self.frames, frame)
        if k < len(self.frames) and self.frames[k] == frame:
            box, score, look = self.boxes[k], self.scores[k], self.looks[k]
            return TrackedFace(self.track_id, as_xyxy(box), True, score, look)
        if frame < first:
            box = covering(
                [coast(self.boxes[0], -v, first - frame) for v in self._start_velocities()]
            )
        elif frame > last:
            box = covering([coast(self.boxes[-1], v, frame - last) for v in self._end_velocities()])
        else:
            f0, f1 = self.frames[k - 1], self.frames[k]
            w = (frame - f0) / (f1 - f0)
            box = (1 - w) * self.boxes[k - 1] + w * self.boxes[k]
        return TrackedFace(self.track_id, as_xyxy(box), False, 0.0)


def coast(
    box: NDArray[np.float32], velocity: NDArray[np.float32], frames: int
) -> NDArray[np.float32]:
    """Where an unseen face may be ``frames`` after (or before) it was seen.

    The box follows the face's motion and grows a little each frame, because
    the longer a face goes unseen the less sure its place is. It never
    shrinks: a size trend from two jittery detections, extrapolated, would
    shrink it off the face.
    """
    moved = box + velocity * frames
    cx, cy = (moved[0] + moved[2]) / 2, (moved[1] + moved[3]) / 2
    grow = 1 + _COAST_GROWTH * frames
    half_w = max(moved[2] - moved[0], box[2] - box[0]) / 2 * grow
    half_h = max(moved[3] - moved[1], box[3] - box[1]) / 2 * grow
    return np.array([cx - half_w, cy - half_h, cx + half_w, cy + half_h], np.float32)


def covering(boxes: list[NDArray[np.float32]]) -> NDArray[np.float32]:
    """The smallest box holding every one of ``boxes``: where a face may be, by each guess."""
    stacked = np.stack(boxes)
    return np.concatenate([stacked[:, :2].min(axis=0), stacked[:, 2:].max(axis=0)])


def as_xyxy(box: NDArray[np.float32]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return x0, y0, x1, y1
