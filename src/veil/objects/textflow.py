"""Text found every few frames -> region tracks covering the frames between.

Detection runs on every ``every``-th frame only (it is the costly part); a
line found on two detection frames in a row (overlapping boxes) is one
region, its box interpolated between them, and every region is held
``every`` frames before its first and after its last detection, so text is
covered on the frames the detector skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from veil.geometry import box_iou
from veil.objects.regions import Box, RegionTrack
from veil.objects.text import TextBox

# Boxes on two detection frames in a row that overlap this much are one line.
LINK_IOU = 0.3
# A plate's width over its height, as the detector's box (grown by DB's unclip) has it.
PLATE_ASPECT = (1.5, 6.0)


def kind_of(box: Box) -> str:
    """``plate`` for a single short line of a plate's shape, else ``text``."""
    w, h = box[2] - box[0], box[3] - box[1]
    return "plate" if PLATE_ASPECT[0] <= w / max(h, 1e-6) <= PLATE_ASPECT[1] else "text"


def _between(a: Box, b: Box, t: float) -> Box:
    return tuple(p + (q - p) * t for p, q in zip(a, b, strict=True))  # type: ignore[return-value]


def _fill(track: RegionTrack, every: int, frames: int) -> RegionTrack:
    """Interpolate between the detections of ``track`` and hold its ends ``every`` frames."""
    found = sorted(track.boxes.items())
    boxes: dict[int, Box] = {}
    for (f0, b0), (f1, b1) in itertools.pairwise(found):
        for f in range(f0, f1):
            boxes[f] = _between(b0, b1, (f - f0) / (f1 - f0))
    first, last = found[0], found[-1]
    for f in range(max(0, first[0] - every), first[0]):
        boxes[f] = first[1]
    for f in range(last[0], min(frames, last[0] + every + 1)):
        boxes[f] = last[1]
    return RegionTrack(track.kind, boxes, track.score)


def link_text(
    found: Mapping[int, Sequence[TextBox]], every: int, frames: int, kinds: frozenset[str]
) -> list[RegionTrack]:
    """Region tracks of ``kinds`` (plate, text) from the boxes found on detection frames."""
    open_tracks: list[tuple[int, RegionTrack]] = []  # (last detection frame, track)
    done: list[RegionTrack] = []
    for index in sorted(found):
        still_open = []
        taken: set[int] = set()
        for last, track in open_tracks:
            if index - last > every:
                done.append(track)
                continue
            overlaps = box_iou([track.boxes[last]], [b.box for b in found[index]] or [(0, 0, 0, 0)])
            scores = [(float(o), k) for k, o in enumerate(overlaps[0]) if k not in taken]
            best = max(scores, default=(0.0, -1))
            if best[0] >= LINK_IOU:
                taken.add(best[1])
                track.boxes[index] = found[index][best[1]].box
                track.score = max(track.score, found[index][best[1]].score)
                still_open.append((index, track))
            else:
                done.append(track)
        for k, text in enumerate(found[index]):
            if k not in taken:
                still_open.append((index, RegionTrack("text", {index: text.box}, text.score)))
        open_tracks = still_open
    done.extend(track for _, track in open_tracks)
    tracks = []
    for track in done:
        widest = max(track.boxes.values(), key=lambda b: b[2] - b[0])
        track.kind = kind_of(widest)
        # "text" is every line, plates included; "plate" only those of a plate's shape
        if track.kind in kinds or "text" in kinds:
            tracks.append(_fill(track, every, frames))
    return tracks
