"""Face tracking: link detections into tracks with stable IDs, as the video streams.

Detections may come every frame or every few frames. Each detection frame's
faces are matched to where the live tracks are predicted to be (constant
velocity), by overlap and by centre distance relative to face size, with an
optimal assignment; unmatched detections start new tracks. A track that goes
undetected for more than ``max_gap`` frames ends. Where the detections come
with their looks (:mod:`veil.track.appearance`), a face that looks unlike a
track is not given to it on motion alone: where two faces pass each other or
a face reappears beside another's lost track, the look decides.

Between a track's detections its box is interpolated, and it is held for
``pad_frames`` (plus the detection stride) before its first and after its last
detection (:mod:`veil.track.tracks`), because a detector finds a face a little
after it becomes visible and loses it a little before it leaves. The box of
frame ``i`` is final once the tracker has seen detections ``lookahead`` frames
past it: a renderer keeps that many frames in hand (:meth:`FaceTracker.settled_until`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from veil.geometry import box_iou
from veil.track.appearance import SIZE, similarity
from veil.track.association import assign, match_cost
from veil.track.tracks import Track, TrackedFace, as_xyxy, coast, covering
from veil.types import Detections

# The distance a returning face may be from its prediction doubles every this many frames.
_REACH_GROWTH_FRAMES = 10
# Where boxes do not overlap, a face may have changed size by at most this
# factor a frame unseen to be the same face (a zoom from 120 to 480 px in 10
# frames changes it by 1.15 a frame), and never by more than 2.
_SIZE_CHANGE_PER_FRAME = 1.2
# A detection this unlike a track's look (appearance.similarity) is not its face
# unless it overlaps the track's predicted box by at least _LOOK_OVERRULED.
_LOOK_GATE = 0.35
_LOOK_OVERRULED = 0.3
# Each step of unlikeness costs this much in the assignment (overlap and distance cost 0..2).
_LOOK_WEIGHT = 2.0
# A track unseen for more frames than this keeps its ID for a face that barely
# overlaps its predicted box only where their looks agree.
_UNSEEN_TRUSTED = 4
# The unlikeness counted where a look is unknown: a track whose look is known and
# agrees beats one whose look is unknown, which beats one whose look disagrees.
_UNKNOWN_UNLIKENESS = 0.5
# A look is only learnt from a face no other detection overlaps (no one else's pixels in it).
_CLEAR_IOU = 0.05


@dataclass(frozen=True)
class TrackerConfig:
    """Tracking settings, in frames.

    Attributes:
        max_gap: frames a face may go undetected and still keep its ID; the gap
            is covered by interpolated boxes.
        pad_frames: frames a track is held before its first and after its last
            detection (the detection stride is added to this).
        max_distance: how far (in face sizes) a face may move between detections.
        relink_frames: a face hidden for longer than ``max_gap`` (behind a
            pillar, a passer-by) that comes back where its motion predicts
            within this many more frames keeps its ID. The hidden stretch is
            not interpolated: this names the face, it does not blur the pillar.
    """

    max_gap: int = 25
    pad_frames: int = 5
    max_distance: float = 1.5
    relink_frames: int = 50


def _merged(a: TrackedFace, b: TrackedFace) -> TrackedFace:
    box = covering([np.array(a.xyxy, np.float32), np.array(b.xyxy, np.float32)])
    look = a.look if a.look is not None else b.look
    detected = a.detected or b.detected
    return TrackedFace(a.track_id, as_xyxy(box), detected, max(a.score, b.score), look)


def _stack_looks(looks: list[NDArray[np.float32] | None]) -> NDArray[np.float32]:
    """(N, SIZE) looks, NaN rows where a look is unknown."""
    return np.stack([np.full(SIZE, np.nan, np.float32) if v is None else v for v in looks])


def _clear_looks(
    boxes: NDArray[np.float32], looks: NDArray[np.float32] | None
) -> list[NDArray[np.float32] | None]:
    """Each detection's look where no other detection overlaps it, else None."""
    if looks is None:
        return [None] * len(boxes)
    overlap = box_iou(boxes, boxes)
    np.fill_diagonal(overlap, 0.0)
    clear = overlap.max(axis=1, initial=0.0) < _CLEAR_IOU
    return [looks[k] if clear[k] else None for k in range(len(boxes))]


def _with_looks(
    cost: NDArray[np.float32],
    tracks: list[Track],
    predicted: NDArray[np.float32],
    boxes: NDArray[np.float32],
    looks: NDArray[np.float32] | None,
    unseen: NDArray[np.float32],
) -> NDArray[np.float32]:
    """``cost`` with each pair's unlikeness added; pairs that barely overlap
    are ruled out where they look unlike, or, for a track unseen a while (it
    went behind something), where either look is unknown: someone else may
    have stepped out where it went in."""
    if looks is None or not len(tracks) or not len(boxes):
        return cost
    track_looks = _stack_looks([t.look() for t in tracks])
    alike = similarity(track_looks, looks)
    known = np.isfinite(alike)
    unlike = np.where(known, 1.0 - alike, _UNKNOWN_UNLIKENESS)
    overlap = box_iou(predicted, boxes)
    doubtful = np.where(known, alike < _LOOK_GATE, (unseen > _UNSEEN_TRUSTED)[:, None])
    ruled_out = doubtful & (overlap < _LOOK_OVERRULED)
    return np.where(ruled_out, np.inf, cost + _LOOK_WEIGHT * unlike).astype(np.float32)


class FaceTracker:
    """Online tracker with a bounded look-ahead.

    Example:
        >>> tracker = FaceTracker(TrackerConfig(), stride=1)
        >>> for index, dets in enumerate(per_frame_detections):
        ...     tracker.update(index, dets)
        ...     while done < tracker.settled_until():
        ...         faces = tracker.faces_at(done); done += 1
        >>> tracker.close()  # then every frame is settled
    """

    def __init__(
        self,
        config: TrackerConfig = TrackerConfig(),
        stride: int = 1,
        frame_size: tuple[int, int] | None = None,
    ) -> None:
        """``frame_size``: (width, height) of the frames, if known: a track whose
        motion has taken it wholly out of the frame has left, and ends there
        (someone walking in where it left is someone else, or it back, which
        :mod:`veil.track.identities` decides by its look)."""
        self.config = config
        self.frame_size = frame_size
        self.pad = config.pad_frames + stride - 1
        # a live track ends once undetected for max_gap frames, and a later track
        # reaches back at most pad frames: past both, nothing can change a frame
        self.lookahead = max(config.max_gap, self.pad) + stride
        self._tracks: list[Track] = []
        # ended tracks no longer needed for any frame, kept while they may relink
        self._dormant: list[Track] = []
        self._next_id = 1
        # whether detections come with looks (then an old ID needs a look that agrees)
        self._seen_looks = False
        self._last_update = -1
        self._closed = False
        self._shot_start = 0

    def update(
        self,
        frame: int,
        detections: Detections,
        looks: NDArray[np.float32] | None = None,
    ) -> NDArray[np.int64]:
        """Match the detections made on ``frame``; returns a track ID per detection.

        ``looks``: (N, appearance.SIZE) what each detection looks like
        (:func:`veil.track.appearance.describe`), or None to track by motion alone.
        """
        self._last_update = frame
        for track in self._tracks:
            if not track.ended and (
                frame - track.frames[-1] > self.config.max_gap or self._left(track.predict(frame))
            ):
                track.ended = True
        live = [t for t in self._tracks if not t.ended]
        predicted = np.array([t.predict(frame) for t in live], np.float32).reshape(-1, 4)
        # the longer a face has been unseen, the further from its predicted place
        # it may come back (occlusions: it walked on behind something)
        unseen = np.array([frame - t.frames[-1] for t in live], np.float32)
        reach = self.config.max_distance * (1 + unseen / _REACH_GROWTH_FRAMES)
        # a face's size changes by a bounded share a frame (fast zooms included),
        # so a face of another size nearby is another face
        resize = np.minimum(_SIZE_CHANGE_PER_FRAME**unseen, 2.0)
        cost = match_cost(predicted, detections.xyxy, reach, resize)
        cost = _with_looks(cost, live, predicted, detections.xyxy, looks, unseen)
        learnt = _clear_looks(detections.xyxy, looks)
        self._seen_looks = self._seen_looks or looks is not None
        ids = np.zeros(len(detections), np.int64)
        for row, col in assign(cost):
            live[row].add(frame, detections.xyxy[col], float(detections.score[col]), learnt[col])
            live[row].confirmed = frame
            ids[col] = live[row].track_id
        new = np.flatnonzero(ids == 0)
        returning = self._returning(frame, detections.xyxy[new], [learnt[c] for c in new])
        for k, col in enumerate(new.tolist()):
            track_id = returning.get(k)
            if track_id is None:
                track_id, self._next_id = self._next_id, self._next_id + 1
            track = Track(track_id, confirmed=frame, shot_start=self._shot_start)
            track.add(frame, detections.xyxy[col], float(detections.score[col]), learnt[col])
            self._tracks.append(track)
            ids[col] = track.track_id
        return ids

    def predicted(self, frame: int) -> NDArray[np.float32]:
        """(N, 4) where each live track's face is predicted on ``frame``."""
        live = [t.predict(frame) for t in self._tracks if not t.ended]
        return np.array(live, np.float32).reshape(-1, 4)

    def _left(self, box: NDArray[np.float32]) -> bool:
        """Whether ``box`` lies wholly outside the frame."""
        if self.frame_size is None:
            return False
        width, height = self.frame_size
        return bool(box[2] <= 0 or box[3] <= 0 or box[0] >= width or box[1] >= height)

    def _returning(
        self,
        frame: int,
        boxes: NDArray[np.float32],
        looks: list[NDArray[np.float32] | None],
    ) -> dict[int, int]:
        """New faces that are ended tracks come back: {row of ``boxes``: their old ID}.

        A candidate must be where its motion predicts, within the plain reach
        (not the widened one of live tracks), and of the same size. Where faces'
        looks are known, it must also look like the face: a face whose look is
        unknown (coming in at the frame's edge, behind someone) is not given an
        old ID on motion alone; :mod:`veil.track.identities` decides it later,
        with the whole video's evidence.
        """
        horizon = self._relink_horizon()
        candidates = [
            t
            for t in (*self._dormant, *self._tracks)
            if t.ended
            and not t.relinked
            and frame - t.frames[-1] <= horizon
            and t.frames[-1] >= self._shot_start
        ]
        if not candidates or len(boxes) == 0:
            return {}
        predicted = np.array([t.comeback_box(frame) for t in candidates], np.float32)
        cost = match_cost(predicted, boxes, self.config.max_distance)
        if self._seen_looks:
            track_looks = _stack_looks([t.look() for t in candidates])
            alike = similarity(track_looks, _stack_looks(looks))
            cost = np.where(alike >= _LOOK_GATE, cost, np.inf).astype(np.float32)
        returning = {}
        for row, col in assign(cost):
            candidates[row].relinked = True
            returning[col] = candidates[row].track_id
        return returning

    def cut(self, frame: int) -> None:
        """A hard cut before ``frame``: no face of the shot before it is held into the
        next shot, followed across the cut, or comes back after it."""
        for track in self._tracks:
            if track.shot_end is None:
                track.shot_end = frame
            track.ended = True
        self._shot_start = frame

    def lost_at(self, frame: int) -> list[tuple[int, tuple[float, float, float, float]]]:
        """Live tracks the detector just lost on ``frame``, with where each is predicted.

        Only tracks seen within the padding and confirmed (found by the
        whole-frame detector, or surely by a search) within ``max_gap`` frames:
        weak finds near a face may keep it, but never for longer than that on
        their own.
        """
        return [
            (t.track_id, as_xyxy(coast(t.boxes[-1], t.velocity, frame - t.frames[-1])))
            for t in self._tracks
            if not t.ended
            and t.frames[-1] < frame
            and frame - t.frames[-1] <= self.pad
            and frame - t.confirmed <= self.config.max_gap
        ]

    def extend_forward(
        self, track_id: int, frame: int, box: NDArray[np.float32], score: float, sure: bool
    ) -> None:
        """Add a detection after the track's last one (found by searching near it).

        ``sure``: the find is as good as the whole-frame detector's (it confirms the track).
        """
        track = self._track(track_id)
        if frame <= track.frames[-1]:
            raise ValueError("extend_forward needs a frame after the track's last")
        track.add(frame, np.asarray(box, np.float32), score)
        if sure:
            track.confirmed = frame

    def born_at(self, frame: int, track_id: int) -> bool:
        """True if ``track_id`` was first detected on ``frame``."""
        track = self._track(track_id)
        return track.frames[0] == frame

    def box(self, track_id: int, frame: int) -> tuple[float, float, float, float]:
        """The box of a track on one of its detection frames."""
        track = self._track(track_id)
        return as_xyxy(track.boxes[track.frames.index(frame)])

    def last_box(self, track_id: int) -> tuple[float, float, float, float]:
        """The box of a track's latest detection."""
        return as_xyxy(self._track(track_id).boxes[-1])

    def extend_back(
        self, track_id: int, frame: int, box: NDArray[np.float32], score: float
    ) -> None:
        """Add a detection before the track's first one (found by searching backwards)."""
        track = self._track(track_id)
        if frame >= track.frames[0]:
            raise ValueError("extend_back needs a frame before the track's first")
        track.frames.insert(0, frame)
        track.boxes.insert(0, np.asarray(box, np.float32))
        track.scores.insert(0, score)
        track.looks.insert(0, None)

    def _track(self, track_id: int) -> Track:
        # the newest: a face back from hiding continues its ID in a new track
        for track in reversed(self._tracks):
            if track.track_id == track_id:
                return track
        raise KeyError(track_id)

    def settled_until(self) -> int:
        """Frames before this index have final boxes."""
        if self._closed:
            return np.iinfo(np.int64).max
        return self._last_update - self.lookahead

    def faces_at(self, frame: int) -> list[TrackedFace]:
        """Every track's box on ``frame`` (which must be settled), one per track ID."""
        by_id: dict[int, TrackedFace] = {}
        for track in self._tracks:
            face = track.face_at(frame, self.pad)
            if face is None:
                continue
            other = by_id.get(face.track_id)
            # a face back from hiding, searched backwards into its old track's padding
            by_id[face.track_id] = face if other is None else _merged(other, face)
        return list(by_id.values())

    def forget_before(self, frame: int) -> None:
        """Drop ended tracks that cannot cover ``frame`` or later (constant memory).

        Those that may still come back keep their motion, until they no longer can.
        """
        horizon = self._relink_horizon()
        self._dormant = [t for t in self._dormant if frame - t.frames[-1] <= horizon]
        keep: list[Track] = []
        for track in self._tracks:
            if not (track.ended and track.frames[-1] + self.pad < frame):
                keep.append(track)
            elif not track.relinked:
                self._dormant.append(track)
        self._tracks = keep

    def _relink_horizon(self) -> int:
        """Frames after its last detection that an ended track may still come back."""
        return self.config.max_gap + self.config.relink_frames

    def close(self) -> None:
        """No more detections: every track ends and every frame is settled."""
        for track in self._tracks:
            track.ended = True
        self._closed = True
