"""Values passed between the stages: media in -> detect -> track -> annotations -> redact.

All are frozen; array fields are made read-only so a stage can never change
what another stage sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray


def _readonly(array: NDArray, dtype: type, shape_tail: tuple[int, ...]) -> NDArray:
    out = np.array(array, dtype=dtype, copy=True).reshape((-1, *shape_tail))
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Detections:
    """Faces found in one frame, as parallel arrays.

    Attributes:
        xyxy: (N, 4) float32 boxes in pixels of the frame that was searched.
        score: (N,) float32 confidences in 0..1.
        landmarks: optional (N, 5, 2) float32 points (eyes, nose, mouth corners).
    """

    xyxy: NDArray[np.float32]
    score: NDArray[np.float32]
    landmarks: NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "xyxy", _readonly(self.xyxy, np.float32, (4,)))
        object.__setattr__(self, "score", _readonly(self.score, np.float32, ()))
        if len(self.score) != len(self.xyxy):
            raise ValueError("xyxy and score must have the same length")
        if self.landmarks is not None:
            object.__setattr__(self, "landmarks", _readonly(self.landmarks, np.float32, (5, 2)))
            if len(self.landmarks) != len(self.xyxy):
                raise ValueError("landmarks and xyxy must have the same length")

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: NDArray | slice | Sequence[int]) -> Detections:
        landmarks = None if self.landmarks is None else self.landmarks[index]
        return Detections(self.xyxy[index], self.score[index], landmarks)

    def scaled(self, factor: float) -> Detections:
        """The same faces in a frame resized by ``factor``."""
        landmarks = None if self.landmarks is None else self.landmarks * factor
        return replace(self, xyxy=self.xyxy * factor, landmarks=landmarks)

    @staticmethod
    def concat(parts: Sequence[Detections]) -> Detections:
        if not parts:
            return Detections.empty()
        with_landmarks = all(p.landmarks is not None for p in parts)
        return Detections(
            np.concatenate([p.xyxy for p in parts]),
            np.concatenate([p.score for p in parts]),
            np.concatenate([p.landmarks for p in parts]) if with_landmarks else None,
        )


@dataclass(frozen=True, eq=False)
class DecodedFrame:
    """One decoded video frame (or an image) as stored in the file.

    ``rgb`` is in storage orientation (before display rotation); ``time`` is the
    presentation time in seconds, exact.
    """

    index: int
    time: Fraction
    rgb: NDArray[np.uint8]


@dataclass(frozen=True)
class MediaInfo:
    """What the pipeline needs to know about an input before decoding it."""

    width: int
    height: int
    frame_rate: Fraction
    time_base: Fraction
    frame_count: int
    duration: Fraction
    rotation: int
    # False when ``duration`` is the container's, which may include a longer audio track
    video_duration_known: bool = True


@dataclass(frozen=True, eq=False)
class FaceTrack:
    """One face followed through the video.

    Attributes:
        track_id: stable positive integer ID, unique within one analysis.
        frames: (K,) int64 frame indices, increasing, without gaps.
        xyxy: (K, 4) float32 pixel boxes, one per frame.
        detected: (K,) bool, False where the box was interpolated or extrapolated.
        score: (K,) float32 detector confidence (0 where not detected).
    """

    track_id: int
    frames: NDArray[np.int64]
    xyxy: NDArray[np.float32]
    detected: NDArray[np.bool_]
    score: NDArray[np.float32]

    def __post_init__(self) -> None:
        object.__setattr__(self, "frames", _readonly(self.frames, np.int64, ()))
        object.__setattr__(self, "xyxy", _readonly(self.xyxy, np.float32, (4,)))
        object.__setattr__(self, "detected", _readonly(self.detected, np.bool_, ()))
        object.__setattr__(self, "score", _readonly(self.score, np.float32, ()))
        n = len(self.frames)
        if not (len(self.xyxy) == len(self.detected) == len(self.score) == n):
            raise ValueError("FaceTrack arrays must have the same length")

    @property
    def first_frame(self) -> int:
        return int(self.frames[0])

    @property
    def last_frame(self) -> int:
        return int(self.frames[-1])


@dataclass(frozen=True)
class FaceBox:
    """A box to redact in one frame, in pixels of the stored frame."""

    face_id: int
    x0: float
    y0: float
    x1: float
    y1: float
