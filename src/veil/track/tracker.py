"""Face tracking: link per-frame detections into tracks with stable IDs.

Three passes, all on boxes only:

1. Forwards, online: each frame's detections are matched to where the live
   tracks are predicted to be (constant velocity), by overlap and by centre
   distance relative to face size; unmatched detections start tracklets.
2. Backwards, offline: a tracklet that starts shortly after another one ended,
   where that one was heading, continues it (one person, one ID, despite the
   detector missing them for a while).
3. Filling: gaps inside a track are interpolated, and every track is padded a
   few frames before its first and after its last detection, because the
   detector usually finds a face a little after it becomes visible and loses
   it a little before it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from veil.track.association import assign, match_cost
from veil.types import Detections, FaceTrack


@dataclass(frozen=True)
class TrackerConfig:
    """Tracking settings, in frames.

    Attributes:
        max_gap: frames a face may go undetected and still keep its ID; the gap
            is covered by interpolated boxes.
        pad_frames: frames added before a track's first and after its last detection.
        max_distance: how far (in face sizes) a face may move between frames.
    """

    max_gap: int = 25
    pad_frames: int = 5
    max_distance: float = 1.5


@dataclass(frozen=True)
class TrackingResult:
    """Final tracks, numbered 1..N by first appearance, and the tracklet -> track map."""

    tracks: list[FaceTrack]
    id_of_tracklet: dict[int, int]


@dataclass
class _Tracklet:
    tracklet_id: int
    frames: list[int] = field(default_factory=list)
    boxes: list[NDArray[np.float32]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    velocity: NDArray[np.float32] = field(default_factory=lambda: np.zeros(4, np.float32))

    def add(self, frame: int, box: NDArray[np.float32], score: float) -> None:
        if self.frames:
            step = (box - self.boxes[-1]) / (frame - self.frames[-1])
            # smoothed so one jittery detection does not fling the prediction
            self.velocity = 0.5 * self.velocity + 0.5 * step
        self.frames.append(frame)
        self.boxes.append(box)
        self.scores.append(score)

    def predict(self, frame: int) -> NDArray[np.float32]:
        return self.boxes[-1] + self.velocity * (frame - self.frames[-1])


class FaceTracker:
    """Online association of detections; call :meth:`update` per frame, then :meth:`finish`.

    Example:
        >>> tracker = FaceTracker()
        >>> for index, dets in enumerate(per_frame_detections):
        ...     tracklet_ids = tracker.update(index, dets)
        >>> result = tracker.finish(frame_count)
    """

    def __init__(self, config: TrackerConfig = TrackerConfig()) -> None:
        self.config = config
        self._live: list[_Tracklet] = []
        self._done: list[_Tracklet] = []
        self._next_id = 1

    def update(self, frame: int, detections: Detections) -> NDArray[np.int64]:
        """Match this frame's detections; returns a tracklet ID per detection."""
        self._retire(frame)
        predicted = np.array([t.predict(frame) for t in self._live], np.float32).reshape(-1, 4)
        cost = match_cost(predicted, detections.xyxy, self.config.max_distance)
        ids = np.zeros(len(detections), np.int64)
        matched = set()
        for row, col in assign(cost):
            tracklet = self._live[row]
            tracklet.add(frame, detections.xyxy[col], float(detections.score[col]))
            ids[col] = tracklet.tracklet_id
            matched.add(col)
        for col in range(len(detections)):
            if col not in matched:
                tracklet = _Tracklet(self._next_id)
                self._next_id += 1
                tracklet.add(frame, detections.xyxy[col], float(detections.score[col]))
                self._live.append(tracklet)
                ids[col] = tracklet.tracklet_id
        return ids

    def _retire(self, frame: int) -> None:
        still_live = []
        for tracklet in self._live:
            if frame - tracklet.frames[-1] > self.config.max_gap:
                self._done.append(tracklet)
            else:
                still_live.append(tracklet)
        self._live = still_live

    def finish(self, frame_count: int) -> TrackingResult:
        """Stitch, interpolate and pad all tracklets into final tracks."""
        tracklets = sorted(self._done + self._live, key=lambda t: (t.frames[0], t.tracklet_id))
        self._done, self._live = [], []
        chains = stitch(tracklets, self.config)
        tracks: list[FaceTrack] = []
        id_of_tracklet: dict[int, int] = {}
        for track_id, chain in enumerate(chains, start=1):
            tracks.append(fill_track(track_id, chain, frame_count, self.config.pad_frames))
            for tracklet in chain:
                id_of_tracklet[tracklet.tracklet_id] = track_id
        return TrackingResult(tracks, id_of_tracklet)


def stitch(tracklets: list[_Tracklet], config: TrackerConfig) -> list[list[_Tracklet]]:
    """Join tracklets that continue one another across a detection gap.

    Tracklets must be sorted by first frame; the result is sorted the same way.
    """
    chains: list[list[_Tracklet]] = []
    for tracklet in tracklets:
        start, box = tracklet.frames[0], tracklet.boxes[0][None, :]
        candidates = [
            chain for chain in chains if 0 < start - chain[-1].frames[-1] <= config.max_gap
        ]
        if candidates:
            predicted = np.array([c[-1].predict(start) for c in candidates], np.float32)
            pairs = assign(match_cost(predicted, box, config.max_distance).astype(np.float32))
            if pairs:
                candidates[pairs[0][0]].append(tracklet)
                continue
        chains.append([tracklet])
    return chains


def fill_track(
    track_id: int, chain: list[_Tracklet], frame_count: int, pad_frames: int
) -> FaceTrack:
    """One contiguous FaceTrack from a chain of tracklets: gaps interpolated, ends padded."""
    frames = np.array([f for t in chain for f in t.frames], np.int64)
    boxes = np.array([b for t in chain for b in t.boxes], np.float32)
    scores = np.array([s for t in chain for s in t.scores], np.float32)
    first = max(int(frames[0]) - pad_frames, 0)
    last = min(int(frames[-1]) + pad_frames, max(frame_count - 1, int(frames[-1])))
    all_frames = np.arange(first, last + 1, dtype=np.int64)
    # np.interp holds the end values outside the detected range: that is the padding
    filled = np.stack(
        [np.interp(all_frames, frames, boxes[:, k]) for k in range(4)], axis=1
    ).astype(np.float32)
    detected = np.isin(all_frames, frames)
    all_scores = np.zeros(len(all_frames), np.float32)
    all_scores[frames - first] = scores
    return FaceTrack(track_id, all_frames, filled, detected, all_scores)
