"""Regions that are not faces (marked objects, plates, text) added to annotations.

Each gets an ID after the faces' and a ``kind`` on every box (a veil extra
that Azure readers ignore); ``facesDetected`` keeps counting faces only.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from veil.annotations.convert import COORD_DECIMALS, to_ticks
from veil.annotations.models import Annotations


@dataclass(frozen=True)
class RegionBox:
    """One box of a region: the frame's index and time, and ``(x0, y0, x1, y1)`` pixels."""

    index: int
    time: Fraction
    xyxy: tuple[float, float, float, float]


def _event_slot(annotations: Annotations, starts: list[int], time: Fraction) -> tuple[int, int]:
    """(fragment, event) positions of the event covering ``time``; (-1, -1) if none."""
    tick = to_ticks(time, annotations.timescale) - annotations.offset
    i = bisect_right(starts, tick) - 1
    if i < 0:
        return -1, -1
    fragment = annotations.fragments[i]
    if tick >= fragment.end or fragment.events is None or fragment.interval is None:
        return -1, -1
    k = (tick - fragment.start) // fragment.interval
    return (i, k) if k < len(fragment.events) else (-1, -1)


def add_regions(
    annotations: Annotations, regions: Sequence[tuple[str, Sequence[RegionBox]]]
) -> Annotations:
    """``annotations`` with each ``(kind, boxes)`` region as a new ID of that kind.

    Boxes land in the event covering their frame's time (boxes on a frame
    without an event, past the annotated timeline, are dropped).
    """
    if not regions:
        return annotations
    document = annotations.model_dump(mode="json", exclude_none=True)
    starts = [fragment.start for fragment in annotations.fragments]
    w, h = annotations.width, annotations.height
    next_id = max(annotations.face_ids(), default=0) + 1
    for kind, boxes in regions:
        for box in boxes:
            i, k = _event_slot(annotations, starts, box.time)
            if i < 0:
                continue
            x0, y0, x1, y1 = box.xyxy
            document["fragments"][i]["events"][k].append(
                {
                    "index": box.index,
                    "id": next_id,
                    "x": round(x0 / w, COORD_DECIMALS),
                    "y": round(y0 / h, COORD_DECIMALS),
                    "width": max(round((x1 - x0) / w, COORD_DECIMALS), 1e-5),
                    "height": max(round((y1 - y0) / h, COORD_DECIMALS), 1e-5),
                    "kind": kind,
                }
            )
        next_id += 1
    return Annotations.model_validate(document)


def region_ids(annotations: Annotations) -> frozenset[int]:
    """The IDs whose boxes are plates, text or marked objects (not faces)."""
    return frozenset(
        face.id
        for fragment in annotations.fragments
        for event in fragment.events or ()
        for face in event
        if face.kind is not None and face.kind != "face"
    )
