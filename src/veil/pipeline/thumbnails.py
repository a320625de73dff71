"""Pick one thumbnail per face: the sharpest, largest, most frontal view."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.types import Detections

_THUMB_MARGIN = 1.4  # crop a little beyond the box so hair and chin frame the face
_SHARPNESS_SIDE = 64  # sharpness is measured at a fixed size to compare crops of any size


@dataclass(frozen=True, eq=False)
class Thumbnail:
    quality: float
    crop: NDArray[np.uint8]


def frontality(landmarks: NDArray[np.float32] | None) -> float:
    """1 for a face looking at the camera, towards 0 in profile (eyes vs nose symmetry)."""
    if landmarks is None:
        return 1.0
    left_eye, right_eye, nose = landmarks[0], landmarks[1], landmarks[2]
    left, right = abs(nose[0] - left_eye[0]), abs(right_eye[0] - nose[0])
    return float(1 - abs(left - right) / max(left + right, 1e-6))


def sharpness(crop: NDArray[np.uint8]) -> float:
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (_SHARPNESS_SIDE, _SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def crop_face(rgb: NDArray[np.uint8], box: NDArray[np.float32]) -> NDArray[np.uint8] | None:
    height, width = rgb.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) * _THUMB_MARGIN / 2
    x0, y0 = max(int(cx - half), 0), max(int(cy - half), 0)
    x1, y1 = min(int(np.ceil(cx + half)), width), min(int(np.ceil(cy + half)), height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return rgb[y0:y1, x0:x1].copy()


class ThumbnailPicker:
    """Keeps the best crop seen so far for each track."""

    def __init__(self) -> None:
        self._best: dict[int, Thumbnail] = {}

    def offer(
        self,
        small: NDArray[np.uint8],
        scale: float,
        full: Callable[[], NDArray[np.uint8]],
        detections: Detections,
        ids: NDArray[np.int64],
    ) -> None:
        """Consider this frame's faces.

        Args:
            small: the (downscaled) upright frame the detector saw, for judging.
            scale: full-frame pixels per ``small`` pixel.
            full: returns the full-resolution upright frame; called only when a
                face here beats its best view so far.
            detections: faces in full-frame pixels.
            ids: track ID of each detection.
        """
        full_frame: NDArray[np.uint8] | None = None
        for k, track_id in enumerate(ids.tolist()):
            box = detections.xyxy[k]
            judged = crop_face(small, box / scale)
            if judged is None:
                continue
            landmarks = None if detections.landmarks is None else detections.landmarks[k]
            size = float(max(box[2] - box[0], box[3] - box[1]))
            quality = (
                np.log1p(size)
                * np.sqrt(sharpness(judged) + 1.0)
                * (0.25 + frontality(landmarks))
                * float(detections.score[k])
            )
            best = self._best.get(track_id)
            if best is not None and quality <= best.quality:
                continue
            if full_frame is None:
                full_frame = full()
            crop = crop_face(full_frame, box)
            if crop is not None:
                self._best[track_id] = Thumbnail(quality, crop)

    def best(self, final: Mapping[int, int] | None = None) -> dict[int, NDArray[np.uint8]]:
        """The best crop of each track, by track ID; or of each final ID, where
        ``final`` maps track IDs to the IDs they were joined into."""
        best: dict[int, Thumbnail] = {}
        for track_id, thumb in self._best.items():
            face_id = final.get(track_id, track_id) if final else track_id
            if face_id not in best or thumb.quality > best[face_id].quality:
                best[face_id] = thumb
        return {face_id: thumb.crop for face_id, thumb in sorted(best.items())}
