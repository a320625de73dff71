"""Is every face the analysis found still hidden by the review's boxes, or deliberately shown?

A review may move, resize and delete boxes and choose which IDs to hide. Before a
redaction is published its boxes are checked against the analysis's, frame by frame:
each face the analysis found must be covered (:data:`COVERED_SHARE` of its box) by the
boxes chosen to be hidden, unless a box of an ID the person chose to show lies on it
(that ID is then reported as shown, by name). What is neither is *uncovered*: a box
shrunk below the face, moved off it, or deleted. A strict policy refuses the redaction
then (:meth:`veil.service.policy.Policy.strict`); the others record it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from veil.annotations import Face
from veil.geometry import intersection
from veil.review.timeline import Timeline

# a box hiding less than this share of the face the analysis found no longer hides it: a
# person may tighten a loose box, not shrink it off the face
COVERED_SHARE = 0.6


@dataclass(frozen=True)
class Coverage:
    """``shown``: IDs (as edited) chosen not to be hidden that lie on a face the analysis
    found; ``uncovered``: (frame, analysed ID) of faces nothing hides nor shows."""

    shown: frozenset[int]
    uncovered: tuple[tuple[int, int], ...]

    def summary(self) -> str:
        frames = sorted({f for f, _ in self.uncovered})
        ids = sorted({i for _, i in self.uncovered})
        return (
            f"{len(self.uncovered)} face box(es) the analysis found (IDs "
            f"{', '.join(map(str, ids[:10]))}, from frame {frames[0]}) are neither covered by "
            f"a hidden box ({COVERED_SHARE:.0%} of each) nor chosen to be shown"
        )


def _corners(face: Face) -> list[float]:
    return [face.x, face.y, face.x + face.width, face.y + face.height]


def _covered_share(face: Face, boxes: list[Face]) -> float:
    """The share of ``face`` that ``boxes`` cover (overlaps of the boxes counted once)."""
    if not boxes:
        return 0.0
    import numpy as np

    # rasterise on a small grid over the face: exact enough, and no double counting
    steps = 24
    xs = face.x + (np.arange(steps) + 0.5) * face.width / steps
    ys = face.y + (np.arange(steps) + 0.5) * face.height / steps
    gx, gy = np.meshgrid(xs, ys)
    hit = np.zeros_like(gx, dtype=bool)
    for b in boxes:
        hit |= (gx >= b.x) & (gx <= b.x + b.width) & (gy >= b.y) & (gy <= b.y + b.height)
    return float(hit.mean())


def coverage(original: Timeline, edited: Timeline, hidden: Collection[int]) -> Coverage:
    """How the analysis's faces (``original``) fare under the edited boxes when the IDs
    ``hidden`` are hidden (the timelines have the same frames)."""
    shown: set[int] = set()
    uncovered: list[tuple[int, int]] = []
    for frame, (found, boxes) in enumerate(zip(original.faces, edited.faces, strict=True)):
        if not found:
            continue
        overlaps = (
            intersection([_corners(f) for f in found], [_corners(b) for b in boxes])
            if boxes
            else None
        )
        for n, face in enumerate(found):
            on_it = [b for m, b in enumerate(boxes) if overlaps is not None and overlaps[n, m] > 0]
            chosen_shown = {b.id for b in on_it if b.id not in hidden}
            if chosen_shown:
                shown |= chosen_shown
                continue
            if _covered_share(face, on_it) < COVERED_SHARE:
                uncovered.append((frame, face.id))
    return Coverage(frozenset(shown), tuple(uncovered))
