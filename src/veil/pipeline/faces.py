"""Detect and track faces as the pictures stream past, with a bounded look-ahead.

:class:`FaceFinder` runs the detector on every ``detect_every``-th frame (on a
downscaled, upright copy), feeds the tracker, and releases each picture with
its faces once the tracker has settled them. Every so often it also searches
the frame enlarged (:class:`~veil.pipeline.config.SmallFacePass`) for faces too small for the
downscaled copy, and watches for hard cuts (:mod:`veil.pipeline.cuts`).
:class:`TrackRecorder` collects what was released into Azure
annotations.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from veil.annotations import (
    Annotations,
    FrameClock,
    IdInfo,
    MergeSuggestion,
    tracks_to_annotations,
)
from veil.detect import FaceDetector, load_detector
from veil.errors import InputError
from veil.geometry import box_iou
from veil.media import VideoPicture
from veil.media.held import HELD_BYTES, HeldPictures
from veil.media.orientation import UprightPicture, to_upright, upright_size
from veil.pipeline.config import PipelineConfig
from veil.pipeline.corroborate import corroborated
from veil.pipeline.cuts import is_blank, is_cut, signature
from veil.pipeline.search import backtrack_limit, track_frame
from veil.pipeline.thumbnails import ThumbnailPicker
from veil.track import FaceTracker, TrackedFace
from veil.track.appearance import describe
from veil.track.identities import EvidenceLog, Identities, assess
from veil.track.recurrence import RecurringFaces
from veil.types import Detections, FaceTrack, MediaInfo


@dataclass(frozen=True)
class SettledFrame:
    """A picture and its faces (upright pixel coordinates), final."""

    picture: VideoPicture
    faces: list[TrackedFace]


class FaceFinder:
    """Pictures in, pictures with their faces out, in order, ``lookahead`` frames later.

    Held pictures beyond ``held_bytes`` wait in a temporary file (:class:`HeldPictures`).
    ``tracker`` is the tracker to feed where a variant is needed; by default a
    :class:`FaceTracker` of ``tracker_config`` at the detection stride.
    ``second``: the model asked about doubtful new faces where
    ``config.second_opinion`` (by default the other model, loaded when first needed).
    """

    def __init__(
        self,
        detector: FaceDetector,
        config: PipelineConfig,
        info: MediaInfo,
        thumbnails: ThumbnailPicker | None = None,
        tracker: FaceTracker | None = None,
        held_bytes: int = HELD_BYTES,
        second: FaceDetector | None = None,
    ) -> None:
        self.detector = detector
        self._second = second
        self.config = config
        self.info = info
        self.threshold = config.detector.threshold
        recurrence = config.recurrence
        # weak detections are asked for only when something uses them
        uses_weak = recurrence.frames > 0 or recurrence.candidates > 0
        self.weakest = min(self.threshold, recurrence.threshold) if uses_weak else None
        self.recurring = RecurringFaces(recurrence)
        self.detect_every = max(1, config.detect_every)
        # the model resizes to its input size anyway: scaling while converting
        # from YUV is cheaper, unless the full frame is needed to upscale
        use_full = config.detector.upscale > 1 or config.detector.input_size == 0
        self.detect_side = 0 if use_full else config.detector.input_size
        size = upright_size(info.width, info.height, info.rotation)
        if tracker is None:
            tracker = FaceTracker(config.tracker, stride=self.detect_every, frame_size=size)
        self.tracker = tracker
        self.thumbnails = thumbnails
        small_faces = config.small_faces
        self.small_faces = small_faces
        # an upscale on every frame already does what the periodic pass would
        periodic = small_faces.upscale > 1 and config.detector.upscale <= 1
        self.small_faces_every = (
            self._pass_interval(small_faces.every or backtrack_limit(self.tracker))
            if periodic
            else 0
        )
        self._held = HeldPictures(held_bytes)
        self._evidence = EvidenceLog(*size)
        # cuts: the last frame's signature, whether it was blank, the current shot's first frame
        self._previous: NDArray[np.float32] | None = None
        self._blank = False
        self._shot_start = 0

    def candidates(self) -> list[FaceTrack]:
        """Face-like spans below the threshold that never counted as faces (after ``flush``)."""
        return self.recurring.candidates()

    def _pass_interval(self, frames: int) -> int:
        """``frames`` rounded down to a whole number of detection strides (at least one)."""
        return max(frames // self.detect_every, 1) * self.detect_every

    def push(self, picture: VideoPicture) -> Iterator[SettledFrame]:
        self._held.append(picture)
        if self.config.scene_cuts:
            current = signature(picture.pixel_rows()[0])
            blank = is_blank(current)
            if self._previous is not None and (
                is_cut(self._previous, current) or (blank and not self._blank)
            ):
                self._shot_start = picture.index
                self.tracker.cut(picture.index)
                self._evidence.cut(picture.index)
            self._previous, self._blank = current, blank
        if picture.index % self.detect_every == 0:
            self._detect(picture)
        yield from self._release(self.tracker.settled_until())

    def flush(self) -> Iterator[SettledFrame]:
        self.tracker.close()
        self.recurring.close()
        yield from self._release(self.tracker.settled_until())
        self._held.close()

    def _release(self, settled_until: int) -> Iterator[SettledFrame]:
        while self._held and self._held.first_index < settled_until:
            picture = self._held.popleft()
            faces = self.tracker.faces_at(picture.index)
            self._evidence.add(picture.index, faces)
            yield SettledFrame(picture, faces)
            self.tracker.forget_before(picture.index)

    def identities(self) -> Identities:
        """The final IDs, once every frame is out (:func:`veil.track.identities.assess`)."""
        return assess(self._evidence)

    def _frame_at(self, index: int) -> UprightPicture | None:
        """A held frame (the one being detected on included), as the searches see it;
        None before the shot's first frame: a face is not searched for across a cut."""
        if index < self._shot_start:
            return None
        picture = self._held.get(index)
        return None if picture is None else UprightPicture(picture, self.info.rotation)

    def _second_opinion(self) -> FaceDetector:
        """The other model (CenterFace, or RetinaFace for CenterFace), loaded once."""
        if self._second is None:
            primary = self.config.detector
            other = "retinaface" if primary.name == "centerface" else "centerface"
            self._second = load_detector(replace(primary, name=other, upscale=1.0, mirror=False))
        return self._second

    def _detect(self, picture: VideoPicture) -> None:
        small = to_upright(picture.rgb(self.detect_side), self.info.rotation)
        every = self.small_faces_every
        upscale = self.small_faces.upscale if every and picture.index % every == 0 else None
        detections = self.detector.detect(small, threshold=self.weakest, upscale=upscale)
        full_width, _ = upright_size(picture.width, picture.height, self.info.rotation)
        scale = full_width / small.shape[1]
        detections = detections.scaled(scale) if scale != 1 else detections
        if self.weakest is not None:
            sure = detections.score >= self.threshold
            strong = detections[sure]
            counted = self.recurring.update(picture.index, detections[~sure], strong.xyxy)
            detections = Detections.concat([strong, counted])
        if self.config.second_opinion:
            detections = corroborated(
                detections,
                self.tracker.predicted(picture.index),
                self._frame_at(picture.index),
                self._second_opinion,
            )
        # what each face looks like, from the pixels the detector saw (in memory only)
        looks = describe(small, detections.xyxy / scale)
        ids = track_frame(
            self.detector, self.tracker, picture.index, detections, self._frame_at, looks
        )
        if self.thumbnails is not None:
            self.thumbnails.offer(
                small, scale, lambda: to_upright(picture.rgb(), self.info.rotation), detections, ids
            )


# A candidate overlapping a recorded face this much is that face.
_COVERED_IOU = 0.3


class FaceSink(Protocol):
    """Where settled frames' faces go: annotations, or just the IDs seen."""

    def add(self, index: int, time: Fraction, faces: list[TrackedFace]) -> None: ...

    def face_ids(self, identities: Identities | None = None) -> set[int]: ...


class FaceIds:
    """Keeps only the IDs of the faces seen, for a run that writes no annotations."""

    def __init__(self) -> None:
        self._ids: set[int] = set()

    def add(self, index: int, time: Fraction, faces: list[TrackedFace]) -> None:
        self._ids.update(face.track_id for face in faces)

    def face_ids(self, identities: Identities | None = None) -> set[int]:
        """The IDs seen (as ``identities`` names them, if given)."""
        return {identities.of(i) for i in self._ids} if identities else set(self._ids)


class TrackRecorder:
    """Collects settled frames into annotations (the only per-frame state kept)."""

    def __init__(self, info: MediaInfo) -> None:
        self.info = info
        self._times: list[Fraction] = []
        self._boxes: dict[int, list[tuple[int, tuple[float, ...], bool, float]]] = {}

    def add(self, index: int, time: Fraction, faces: list[TrackedFace]) -> None:
        self._times.append(time)
        for face in faces:
            self._boxes.setdefault(face.track_id, []).append(
                (index, face.xyxy, face.detected, face.score)
            )

    @property
    def frames(self) -> int:
        return len(self._times)

    def face_ids(self, identities: Identities | None = None) -> set[int]:
        """The IDs seen (as ``identities`` names them, if given)."""
        return {identities.of(i) for i in self._boxes} if identities else set(self._boxes)

    def _rows_by_id(self, identities: Identities | None) -> dict[int, list[tuple]]:
        """Each final ID's rows, in frame order, one per frame: where two tracks
        joined into one person both have a box (one's held end, the other's held
        start), the box covering both."""
        if identities is None:
            return self._boxes
        joined: dict[int, dict[int, tuple]] = {}
        for track_id, rows in self._boxes.items():
            by_frame = joined.setdefault(identities.of(track_id), {})
            for index, xyxy, detected, score in rows:
                other = by_frame.get(index)
                if other is not None:
                    xyxy = (
                        min(xyxy[0], other[1][0]),
                        min(xyxy[1], other[1][1]),
                        max(xyxy[2], other[1][2]),
                        max(xyxy[3], other[1][3]),
                    )
                    detected, score = detected or other[2], max(score, other[3])
                by_frame[index] = (index, xyxy, detected, score)
        return {i: [by_frame[f] for f in sorted(by_frame)] for i, by_frame in joined.items()}

    def annotations(
        self,
        source: str,
        identities: Identities | None = None,
        candidates: Sequence[FaceTrack] = (),
    ) -> Annotations:
        """The annotations of every frame added; with ``identities``, their final
        IDs, each ID's confidence and the merges suggested to the reviewer; and the
        ``candidates`` that no recorded face covers."""
        info = self.info
        tracks = [
            FaceTrack(
                track_id,
                np.array([r[0] for r in rows], np.int64),
                np.array([r[1] for r in rows], np.float32),
                np.array([r[2] for r in rows], bool),
                np.array([r[3] for r in rows], np.float32),
            )
            for track_id, rows in sorted(self._rows_by_id(identities).items())
        ]
        width, height = upright_size(info.width, info.height, info.rotation)
        timescale = timescale_for(info.time_base)
        end = self._times[-1] + 1 / info.frame_rate if self._times else Fraction(0)
        try:
            clock = FrameClock.from_times(self._times, end, timescale)
        except ValueError as exc:
            raise InputError(source, f"frame timestamps are broken ({exc})") from exc
        by_frame: dict[int, list[tuple[float, ...]]] = {}
        for rows in self._boxes.values():
            for index, xyxy, _, _ in rows:
                by_frame.setdefault(index, []).append(xyxy)
        uncovered = [c for c in candidates if not _covered(c, by_frame)]
        annotations = tracks_to_annotations(
            tracks, clock, width, height, float(info.frame_rate), candidates=uncovered
        )
        return annotations if identities is None else with_identities(annotations, identities)


def _covered(candidate: FaceTrack, faces: dict[int, list[tuple[float, ...]]]) -> bool:
    """Whether ``faces`` (boxes by frame) overlap ``candidate`` on at least half its frames."""
    hits = 0
    for frame, box in zip(candidate.frames.tolist(), candidate.xyxy, strict=True):
        others = np.array(faces.get(frame, []), np.float32).reshape(-1, 4)
        hits += bool(len(others)) and box_iou(box[None], others).max() >= _COVERED_IOU
    return 2 * hits >= len(candidate.frames)


def with_identities(annotations: Annotations, identities: Identities) -> Annotations:
    """``annotations`` with each present ID's confidence and the merges suggested."""
    present = annotations.face_ids()
    ids = tuple(
        IdInfo(id=a.face_id, confidence=a.confidence, lowConfidence=a.low_confidence)
        for a in identities.assessments
        if a.face_id in present
    )
    merges = tuple(
        MergeSuggestion(ids=(a, b), score=score)
        for a, b, score in identities.suggestions
        if a in present and b in present
    )
    return annotations.model_copy(update={"ids": ids or None, "mergeSuggestions": merges or None})


def timescale_for(time_base: Fraction) -> int:
    """Ticks per second that make every frame time whole (Azure used 24000/30000-style)."""
    return time_base.denominator if time_base.numerator == 1 else 90000
