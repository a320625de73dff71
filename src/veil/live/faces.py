"""The faces a live stream is known to hold, at any instant: pure, no I/O.

Detections arrive when the detector is free, on whichever frame was newest.
Each face keeps its last detected box, when it was detected (stream seconds)
and a smoothed velocity. Asked for the boxes at another instant (earlier or
later: the emitter may still be showing frames older than the detection), a
face is moved by its velocity and grown with the time since its detection
(its *age*): by the distance it could have strayed from the prediction, and
by a fraction of its size per second, so a face that turns, speeds up or
walks towards the camera stays covered until the next detection. A face not
seen again for ``hold`` seconds is forgotten.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from veil.track.association import assign, match_cost
from veil.types import Detections, FaceBox


@dataclass(frozen=True)
class FaceMotion:
    """How the box of a face is carried between detections.

    Attributes:
        hold: seconds a face stays covered after its last detection.
        speed_margin: each side grows by this many times the distance the face
            moved at its current speed during its age (covers acceleration).
        size_margin: each side grows by this fraction of the face's size per
            second of age (covers turning and approaching).
        max_growth: a side grows by at most this fraction of the face's size.
        max_distance: how far (in face sizes) a face may move between detections.
    """

    hold: float = 1.0
    speed_margin: float = 0.5
    size_margin: float = 0.5
    max_growth: float = 1.0
    max_distance: float = 1.5


@dataclass
class _Face:
    face_id: int
    box: NDArray[np.float32]  # xyxy at ``time``
    time: float
    velocity: NDArray[np.float32]  # xyxy per second

    def predict(self, time: float) -> NDArray[np.float32]:
        return self.box + self.velocity * (time - self.time)


class LiveFaces:
    """Thread-safe memory of the faces last detected; see the module docstring.

    Example:
        >>> faces = LiveFaces(FaceMotion(hold=1.0))
        >>> faces.update(0.0, detections)        # detector thread
        >>> boxes = faces.boxes_at(0.04)         # emitter thread, any instant
    """

    def __init__(self, motion: FaceMotion = FaceMotion()) -> None:
        self.motion = motion
        self._faces: list[_Face] = []
        self._next_id = 1
        self._last_detection: float | None = None
        self._lock = threading.Lock()

    @property
    def last_detection(self) -> float | None:
        """Stream time of the newest frame searched so far (None before the first)."""
        return self._last_detection

    def update(self, time: float, detections: Detections) -> None:
        """Faces found on the frame shown at ``time`` (seconds), in its pixels."""
        with self._lock:
            self._update(time, detections)

    def _update(self, time: float, detections: Detections) -> None:
        self._faces = [f for f in self._faces if abs(time - f.time) <= self.motion.hold]
        predicted = np.array([f.predict(time) for f in self._faces], np.float32).reshape(-1, 4)
        cost = match_cost(predicted, detections.xyxy, self.motion.max_distance)
        matched = set()
        for row, col in assign(cost):
            face, box = self._faces[row], detections.xyxy[col].astype(np.float32)
            dt = time - face.time
            if dt > 0:
                # smoothed, so one jittery detection does not fling the prediction
                face.velocity = 0.5 * face.velocity + 0.5 * (box - face.box) / dt
            face.box, face.time = box, time
            matched.add(col)
        for col in range(len(detections)):
            if col not in matched:
                box = detections.xyxy[col].astype(np.float32)
                self._faces.append(_Face(self._next_id, box, time, np.zeros(4, np.float32)))
                self._next_id += 1
        if self._last_detection is None or time > self._last_detection:
            self._last_detection = time

    def boxes_at(self, time: float) -> list[FaceBox]:
        """Every remembered face at ``time``, moved and grown (pixels, unclipped)."""
        with self._lock:
            faces = list(self._faces)
        boxes = []
        m = self.motion
        for face in faces:
            age = abs(time - face.time)
            if age > m.hold:
                continue
            x0, y0, x1, y1 = (float(v) for v in face.predict(time))
            width, height = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
            vx = float(abs(face.velocity[0] + face.velocity[2]) / 2)
            vy = float(abs(face.velocity[1] + face.velocity[3]) / 2)
            grow_x = min(
                m.speed_margin * vx * age + m.size_margin * width * age, m.max_growth * width
            )
            grow_y = min(
                m.speed_margin * vy * age + m.size_margin * height * age, m.max_growth * height
            )
            boxes.append(FaceBox(face.face_id, x0 - grow_x, y0 - grow_y, x1 + grow_x, y1 + grow_y))
        return boxes

    def covered(self, time: float, max_age: float) -> bool:
        """True if a detection within ``max_age`` seconds of ``time`` vouches for the frame."""
        last = self._last_detection
        return last is not None and abs(time - last) <= max_age

    def __len__(self) -> int:
        return len(self._faces)
