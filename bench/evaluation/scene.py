"""The scenario generator's data: who moves where in a scene, and what was drawn.

A :class:`Scenario` is a list of :class:`Actor` values (a face photo moved
along keyframes) and :class:`Occluder` values (opaque rectangles, standing or
sweeping past); :mod:`evaluation.compositing` renders it and writes its
:class:`GroundTruth`: per frame, every face's box (xyxy px, not clipped to the
frame), identity and visible fraction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from evaluation.sources import FacePhoto

FPS = 25
# Keyframe: (seconds, centre x, centre y, face height px, in-plane angle degrees)
Key = tuple[float, float, float, float, float]


@dataclass(frozen=True)
class Actor:
    """One face moving through the scene along linearly interpolated keyframes."""

    face_id: int
    photo: int  # index into the photo list
    keys: tuple[Key, ...]
    z: float = 0.0  # drawn far to near: larger z is in front
    shutter: float = 0.0  # motion blur: share of a frame interval the shutter is open

    def state(self, t: float) -> tuple[float, float, float, float]:
        """(cx, cy, face height, angle) at ``t`` seconds."""
        keys = np.asarray(self.keys, dtype=np.float64)
        return tuple(float(np.interp(t, keys[:, 0], keys[:, i])) for i in range(1, 5))  # type: ignore[return-value]


@dataclass(frozen=True)
class Occluder:
    """An opaque rectangle drawn at depth ``z``: a pillar, or a pole sweeping past.

    ``box`` is where it is at 0 s; it moves ``sweep`` px per second to the
    right (a pole in the foreground as the camera pans).
    """

    box: tuple[int, int, int, int]
    z: float
    colour: tuple[int, int, int] = (150, 146, 140)
    sweep: float = 0.0

    def box_at(self, t: float) -> tuple[int, int, int, int]:
        shift = round(self.sweep * t)
        x0, y0, x1, y1 = self.box
        return x0 + shift, y0, x1 + shift, y1


@dataclass(frozen=True)
class Scenario:
    """Everything needed to render one test video."""

    name: str
    width: int
    height: int
    seconds: float
    actors: tuple[Actor, ...]
    occluders: tuple[Occluder, ...] = ()
    night: bool = False
    description: str = ""

    @property
    def frame_count(self) -> int:
        return round(self.seconds * FPS)


@dataclass(frozen=True)
class FaceTruth:
    """One face in one frame."""

    id: int
    box: tuple[float, float, float, float]  # xyxy px, may extend past the frame
    visible: float  # share of the face ellipse in the frame and not covered


@dataclass
class GroundTruth:
    """A scenario's labels: ``frames[i]`` lists the faces of frame ``i``."""

    name: str
    width: int
    height: int
    fps: int
    frames: list[list[FaceTruth]]
    sources: dict[int, str] = field(default_factory=dict)
    description: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["frames"] = [[asdict(f) for f in frame] for frame in self.frames]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> GroundTruth:
        data = json.loads(text)
        frames = [
            [FaceTruth(f["id"], tuple(f["box"]), f["visible"]) for f in frame]  # type: ignore[arg-type]
            for frame in data["frames"]
        ]
        sources = {int(k): v for k, v in data.get("sources", {}).items()}
        return cls(
            data["name"],
            data["width"],
            data["height"],
            data["fps"],
            frames,
            sources,
            data.get("description", ""),
        )

    @classmethod
    def read(cls, path: Path) -> GroundTruth:
        return cls.from_json(Path(path).read_text())


def pick_photos(
    rng: np.random.Generator, photos: Sequence[FacePhoto], n: int, big: bool = False
) -> list[int]:
    """``n`` photo indices, all different while the list lasts; ``big`` prefers large sources."""
    order = np.arange(len(photos))
    if big:
        sizes = np.array([p.face_height for p in photos])
        order = order[np.argsort(-sizes)][: max(n, min(6, len(photos)))]
    chosen = rng.permutation(order)
    return [int(chosen[i % len(chosen)]) for i in range(n)]
