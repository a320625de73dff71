"""What is left to look at in a review: unreviewed frames, covered faces, jumps, candidates.

Pure functions of a :class:`~veil.review.timeline.Timeline` and a
:class:`~veil.review.state.ReviewState`. The app lists them to step through
("next unreviewed", "next face-like region without a box", "next frame where a
visible face is covered"), the timeline marks the jumps where an ID probably
passes from one person to another, and the export warns about what is open.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from veil.annotations import Face
from veil.redact import RedactionConfig, mask_extent
from veil.review.state import ReviewState, Span
from veil.review.timeline import Rect, Timeline, candidate_boxes, rect_of

# a visible face counts as covered when a blurred box's mask takes this share of its box
COVERED_SHARE = 0.1
# a candidate's box counts as boxed when one face's mask holds this share of
# it: a face with a tenth of it outside the mask is a face partly shown (the
# real-footage evaluation's leak rule), which the reviewer is pointed at
BOXED_SHARE = 0.9
# an ID jumps when its box moves by this many box sizes from one frame to the next...
JUMP_MOVE = 0.6
# ...or its area changes by this factor
JUMP_AREA = 2.2


def _masked(rect: Rect, redaction: RedactionConfig) -> Rect:
    """The extent of the area the redaction hides for the face box ``rect``."""
    x, y, w, h = rect
    x0, y0, x1, y1 = mask_extent(x, y, x + w, y + h, redaction)
    return (x0, y0, x1 - x0, y1 - y0)


def _overlap(a: Rect, b: Rect) -> float:
    """The area of ``a`` and ``b`` together."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def share_covered(face: Rect, by: Rect) -> float:
    """The share of ``face``'s box that ``by`` covers."""
    return _overlap(face, by) / (face[2] * face[3])


@dataclass(frozen=True)
class Covered:
    """A visible face that a blurred face's mask reaches on some frames in a row.

    Attributes:
        face_id: the face left visible.
        by: the blurred face whose mask covers part of it.
        start, end: the frames, inclusive.
        share: the largest share of the visible face's box covered on those frames.
    """

    face_id: int
    by: int
    start: int
    end: int
    share: float


def _runs(frames: Iterable[int]) -> list[Span]:
    runs: list[Span] = []
    for f in sorted(frames):
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    return runs


def covered(
    timeline: Timeline, selected: frozenset[int], redaction: RedactionConfig = RedactionConfig()
) -> list[Covered]:
    """Where a face left visible is partly blurred by another face's mask, by frame span.

    The mask is the blurred box grown as ``redaction`` grows it.
    """
    hits: dict[tuple[int, int], dict[int, float]] = {}
    for frame, faces in enumerate(timeline.faces):
        shown = [f for f in faces if f.id not in selected]
        hidden = [f for f in faces if f.id in selected]
        for face in shown:
            for other in hidden:
                share = share_covered(rect_of(face), _masked(rect_of(other), redaction))
                if share >= COVERED_SHARE:
                    hits.setdefault((face.id, other.id), {})[frame] = share
    found = [
        Covered(face_id, by, a, b, round(max(shares[f] for f in range(a, b + 1)), 3))
        for (face_id, by), shares in hits.items()
        for a, b in _runs(shares)
    ]
    return sorted(found, key=lambda c: (c.start, c.face_id, c.by))


def _centre(face: Face) -> tuple[float, float]:
    return face.x + face.width / 2, face.y + face.height / 2


def jumps(timeline: Timeline) -> dict[int, list[int]]:
    """For each ID, the frames where its box jumps: probably another person from there on.

    A jump is a move of more than :data:`JUMP_MOVE` box sizes (frame to frame; more
    is allowed across frames without a box) or an area change by :data:`JUMP_AREA`;
    of jumps on frames in a row (a box sliding away fast) the first is named.
    Splitting the ID there is what the timeline offers.
    """
    width, height = timeline.template.width, timeline.template.height
    found: dict[int, list[int]] = {}
    last: dict[int, tuple[int, Face]] = {}
    for frame, faces in enumerate(timeline.faces):
        for face in faces:
            if face.id in last:
                before_frame, before = last[face.id]
                gap = frame - before_frame
                (ax, ay), (bx, by) = _centre(before), _centre(face)
                size = max(
                    math.sqrt(before.width * width * before.height * height),
                    math.sqrt(face.width * width * face.height * height),
                )
                moved = math.hypot((bx - ax) * width, (by - ay) * height) / size
                areas = sorted((before.width * before.height, face.width * face.height))
                if moved > JUMP_MOVE * math.sqrt(gap) or areas[1] > JUMP_AREA * areas[0]:
                    found.setdefault(face.id, []).append(frame)
            last[face.id] = (frame, face)
    return {i: [a for a, _ in _runs(frames)] for i, frames in found.items()}


def unreviewed(timeline: Timeline, reviewed: tuple[Span, ...]) -> list[Span]:
    """The frame spans nobody marked as reviewed (``reviewed`` is sorted and merged)."""
    gaps: list[Span] = []
    at = 0
    for a, b in reviewed:
        if a > at:
            gaps.append((at, a - 1))
        at = max(at, b + 1)
    if at < len(timeline):
        gaps.append((at, len(timeline) - 1))
    return gaps


@dataclass(frozen=True)
class OpenCandidate:
    """A face-like region nobody accepted or dismissed yet.

    Attributes:
        candidate: its number in the annotations.
        frames: the frames it is on.
        unboxed: the frames where no face's mask holds it (:data:`BOXED_SHARE`):
            nothing hides it there, or only part of it.
        confidence: the detector's best score on it (below the threshold).
    """

    candidate: int
    frames: list[int]
    unboxed: list[int]
    confidence: float


def open_candidates(
    timeline: Timeline, state: ReviewState, redaction: RedactionConfig = RedactionConfig()
) -> list[OpenCandidate]:
    """Candidates nobody accepted or dismissed, with the frames where no face's mask
    (the box grown as ``redaction`` grows it) holds them whole."""
    found = []
    for candidate in timeline.template.candidates or ():
        if candidate.id in state.accepted or candidate.id in state.dismissed:
            continue
        boxes = candidate_boxes(timeline, candidate)
        unboxed = [
            frame
            for frame, rect in sorted(boxes.items())
            if not any(
                share_covered(rect, _masked(rect_of(f), redaction)) >= BOXED_SHARE
                for f in timeline.faces[frame]
            )
        ]
        best = max(b.confidence for b in candidate.boxes)
        found.append(OpenCandidate(candidate.id, sorted(boxes), unboxed, best))
    return found


@dataclass(frozen=True)
class Warning:
    """Something a person confirms before an export (``code`` names it in the request)."""

    code: str
    text: str


def _frames(spans: list[Span]) -> int:
    return sum(b - a + 1 for a, b in spans)


def warnings(timeline: Timeline, state: ReviewState) -> list[Warning]:
    """What an export from this review should say before it runs."""
    found = []
    if not state.selected:
        found.append(
            Warning(
                "nothing-blurred",
                "No face is chosen to blur: the video will be published with every face visible.",
            )
        )
    gaps = unreviewed(timeline, state.reviewed)
    if gaps:
        found.append(
            Warning(
                "unreviewed",
                f"{_frames(gaps)} of {len(timeline)} frames are not marked reviewed "
                f"(first: frame {gaps[0][0] + 1}).",
            )
        )
    unboxed = [c for c in open_candidates(timeline, state) if c.unboxed]
    if unboxed:
        found.append(
            Warning(
                "candidates",
                f"{len(unboxed)} face-like region{'s' if len(unboxed) > 1 else ''} without "
                f"a box, or only partly under one, nobody accepted or dismissed "
                f"(first: frame {unboxed[0].unboxed[0] + 1}).",
            )
        )
    return found
