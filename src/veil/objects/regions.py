"""What the object stages produce: a track of boxes per region, with its kind."""

from __future__ import annotations

from dataclasses import dataclass, field

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Region:
    """One box of a region on one frame, ``(x0, y0, x1, y1)`` in upright pixels."""

    index: int
    box: Box


@dataclass
class RegionTrack:
    """A region followed through frames: an object a reviewer marked, a plate, text.

    Attributes:
        kind: ``object`` (marked), ``plate`` or ``text`` (as ``Face.kind`` names them).
        boxes: frame index -> box, upright pixels of the full frame.
        score: how sure the finder is (1 for a box a person drew).
    """

    kind: str
    boxes: dict[int, Box] = field(default_factory=dict)
    score: float = 1.0

    def regions(self) -> list[Region]:
        return [Region(i, self.boxes[i]) for i in sorted(self.boxes)]
