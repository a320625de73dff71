"""Regions that are not faces, for the render: marked objects followed through a video.

The tracker goes forward and backward from each mark, so the frames are
decoded once beforehand, reduced to ``TRACK_SIDE`` pixels on their longest
side and held in memory (about 0.7 MB a frame; 30 s at 25 fps is 0.5 GB).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from veil.annotations import Annotations
from veil.annotations.regions import RegionBox, add_regions
from veil.errors import VeilError
from veil.media import read_pictures
from veil.media.orientation import to_upright, upright_size
from veil.objects import Mark, MarkError, RegionTrack, follow_marks
from veil.objects.text import TextBox, TextDetector
from veil.objects.textflow import link_text
from veil.redact import RedactionConfig
from veil.redact.effects import MaskShape
from veil.types import FaceBox, MediaInfo

# Longest side of the frames the tracker sees: MIL ran at 14 fps at 640 px.
TRACK_SIDE = 640
# A region is hidden as a rectangle this much larger than its box: MIL keeps the
# size of the mark while an object grows and turns (bench/eval_marked.py: 1.15
# left the car uncovered on 37 % of its frames), and a tracker pixel is
# several of the frame's: every side also moves out by REGION_MARGIN of the
# frame's longer side (12 px at 1080p), for thin lines of text.
REGION_MASK_SCALE = 1.3
REGION_MARGIN = 0.006


def region_redaction(config: RedactionConfig) -> RedactionConfig:
    """The policy's effect, on a rectangle a little larger than the region."""
    return dataclasses.replace(config, mask=MaskShape.RECTANGLE, mask_scale=REGION_MASK_SCALE)


@dataclass
class ObjectRegions:
    """Every region's box on each frame (upright pixels), and the frames' times."""

    tracks: list[RegionTrack]
    times: list[Fraction]

    def boxes_at(self, index: int) -> list[FaceBox]:
        return [
            FaceBox(-1 - k, *track.boxes[index])
            for k, track in enumerate(self.tracks)
            if index in track.boxes
        ]

    def add_to(self, annotations: Annotations) -> Annotations:
        """The annotations with each region as a new ID of its kind."""
        regions = [
            (
                track.kind,
                [RegionBox(r.index, self.times[r.index], r.box) for r in track.regions()],
            )
            for track in self.tracks
        ]
        return add_regions(annotations, regions)


def with_margin(boxes: Sequence[FaceBox], width: int, height: int) -> list[FaceBox]:
    """Each box grown on every side by REGION_MARGIN of the frame's longer side."""
    pad = REGION_MARGIN * max(width, height)
    return [FaceBox(b.face_id, b.x0 - pad, b.y0 - pad, b.x1 + pad, b.y1 + pad) for b in boxes]


# Text is searched for on every TEXT_EVERY-th frame (its cost), in frames
# reduced to TEXT_SIDE pixels on their longest side.
TEXT_EVERY = 5
TEXT_SIDE = 960
# What --redact may name besides faces.
REGION_CHOICES = ("plates", "text")


@dataclass(frozen=True)
class RegionRequest:
    """What besides faces a run hides: marked boxes, and plates or text found by a model.

    Attributes:
        marks: boxes a person drew, each followed through the video.
        kinds: ``plate`` and/or ``text`` (every line, plates included).
        every: text detection on every n-th frame, held and interpolated between.
        side: longest side of the frame the text detector sees (0 = full size).
    """

    marks: tuple[Mark, ...] = ()
    kinds: frozenset[str] = frozenset()
    every: int = TEXT_EVERY
    side: int = TEXT_SIDE

    def __bool__(self) -> bool:
        return bool(self.marks or self.kinds)


def find_regions(path: Path, info: MediaInfo, request: RegionRequest) -> ObjectRegions:
    """Decode ``path`` once: follow every marked box, and find the plates or text asked for."""
    width, _ = upright_size(info.width, info.height, info.rotation)
    side = request.side or max(width, info.height, info.width)
    detector = TextDetector(side) if request.kinds else None
    small, found, times = [], {}, []
    for picture in read_pictures(path):
        if request.marks:
            small.append(to_upright(picture.rgb(TRACK_SIDE), info.rotation))
        if detector is not None and picture.index % request.every == 0:
            frame = to_upright(picture.rgb(side), info.rotation)
            factor = width / frame.shape[1]
            found[picture.index] = [
                TextBox(tuple(v * factor for v in t.box), t.score) for t in detector.detect(frame)
            ]
        times.append(picture.time)
    tracks = link_text(found, request.every, len(times), request.kinds) if detector else []
    if small:
        try:
            tracks = follow_marks(small, small[0].shape[1] / width, request.marks) + tracks
        except MarkError as exc:
            raise VeilError(f"{path}: {exc}") from None
    return ObjectRegions(tracks, times)


def follow_marked(path: Path, info: MediaInfo, marks: Sequence[Mark]) -> ObjectRegions:
    """Decode ``path`` once and follow every marked box (upright pixels) through it."""
    return find_regions(path, info, RegionRequest(marks=tuple(marks)))
