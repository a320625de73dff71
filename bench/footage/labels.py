"""Face labels of a real clip: per person, runs of frames with a box each.

A label file (``bench/footage/labels/<clip>.json``) is compact JSON::

    {"clip": "real/asl_again.mkv", "sha256": "...", "frames": 77,
     "width": 640, "height": 480,
     "people": {"1": {"runs": [[start, [[x0, y0, x1, y1], ...]], ...],
                      "away": [[first, last], ...]}},
     "notes": "..."}

``runs``: frame ``start`` has the first box, ``start + 1`` the next, and so
on; boxes are the face (brow to chin, ear to ear as seen) in the clip's
pixels. ``away``: inclusive frame ranges in which that person's head is
turned fully away (the box is then the head): scored apart from faces. The
clip's frame count and SHA-256 detect a changed file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class LabelFace:
    """One labelled face (or head turned away) in one frame."""

    person: int
    box: Box
    away: bool = False


@dataclass
class Labels:
    """Every labelled face of a clip, by person."""

    clip: str
    sha256: str
    frames: int
    width: int
    height: int
    # person -> frame -> box
    boxes: dict[int, dict[int, Box]] = field(default_factory=dict)
    # person -> frames with the head turned away
    away: dict[int, set[int]] = field(default_factory=dict)
    notes: str = ""

    def per_frame(self) -> list[list[LabelFace]]:
        """For each frame, its labelled faces."""
        out: list[list[LabelFace]] = [[] for _ in range(self.frames)]
        for person, frames in sorted(self.boxes.items()):
            turned = self.away.get(person, set())
            for index, box in sorted(frames.items()):
                if 0 <= index < self.frames:
                    out[index].append(LabelFace(person, box, index in turned))
        return out

    @property
    def people(self) -> list[int]:
        return sorted(p for p, frames in self.boxes.items() if frames)

    def to_json(self) -> dict:
        people = {}
        for person in self.people:
            frames = self.boxes[person]
            people[str(person)] = {
                "runs": [[start, boxes] for start, boxes in _runs(frames)],
                "away": [list(r) for r in ranges(self.away.get(person, ()))],
            }
        return {
            "clip": self.clip,
            "sha256": self.sha256,
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "people": people,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict) -> Labels:
        labels = cls(data["clip"], data["sha256"], data["frames"], data["width"], data["height"])
        labels.notes = data.get("notes", "")
        for key, person in data["people"].items():
            frames: dict[int, Box] = {}
            for start, boxes in person["runs"]:
                for k, box in enumerate(boxes):
                    frames[start + k] = tuple(float(v) for v in box)
            labels.boxes[int(key)] = frames
            labels.away[int(key)] = {f for a, b in person.get("away", []) for f in range(a, b + 1)}
        return labels

    def write(self, path: Path) -> None:
        """Writes the file: one line per run, so a diff shows what changed."""
        data = self.to_json()
        lines = ["{"]
        for key in ("clip", "sha256", "frames", "width", "height", "notes"):
            lines.append(f"  {json.dumps(key)}: {json.dumps(data[key])},")
        lines.append('  "people": {')
        people = list(data["people"].items())
        for i, (person, body) in enumerate(people):
            lines.append(f'    "{person}": {{"away": {json.dumps(body["away"])}, "runs": [')
            runs = [f"      {json.dumps(run)}" for run in body["runs"]]
            lines.append(",\n".join(runs))
            lines.append("    ]}" + ("," if i < len(people) - 1 else ""))
        lines += ["  }", "}"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")

    @classmethod
    def read(cls, path: Path) -> Labels:
        return cls.from_json(json.loads(path.read_text()))


def _runs(frames: dict[int, Box]) -> Iterable[tuple[int, list[list[int]]]]:
    """Consecutive frames of ``frames`` as (first frame, boxes rounded to whole px)."""
    for first, last in ranges(frames):
        yield first, [[round(v) for v in frames[f]] for f in range(first, last + 1)]


def ranges(frames: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted integers as inclusive (first, last) runs of consecutive values."""
    out: list[tuple[int, int]] = []
    for f in sorted(set(frames)):
        if out and f == out[-1][1] + 1:
            out[-1] = (out[-1][0], f)
        else:
            out.append((f, f))
    return out


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
