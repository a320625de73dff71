"""After the video: which track IDs are one person, and how sure each ID is a face.

The tracker decides online, with a bounded look-ahead, so a person it lost for
longer than it may wait (hidden behind a pole, out of the frame and back, a
head tilted past what the detector finds) comes back as a new track. Once the
whole video is known, every gap has both its sides: two tracks are one person
when the later starts after the earlier ends, where the earlier's motion (or
the later's, backwards) puts it or at the frame's edge both times, at a size
the gap allows, and the two look alike (:mod:`veil.track.appearance`). Each
track is joined to at most one before and one after it (an optimal
assignment), strong links become one ID and weaker ones are suggested to the
reviewer instead.

Each ID also gets a confidence that it follows a real face: the detector's
best score on it. IDs on background texture, hair or a wall are found weakly,
however often; they are marked low-confidence, never dropped (they stay
blurred).

Everything here is computed from :class:`EvidenceLog`, fed with each settled
frame's faces in frame order, which holds a few numbers per ID (constant
memory in the video's length); nothing of it is written but the IDs, their
confidence and the suggestions.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from veil.geometry import box_iou
from veil.track.appearance import SIZE, similarity
from veil.track.association import assign
from veil.track.tracks import TrackedFace

# Detections kept at each end of a track, to extrapolate its motion across a gap.
_ENDS = 4
# Gaps longer than this (frames) are not bridged.
_HORIZON = 250
# Where a face may be after a gap: this many face sizes from its predicted
# place, doubling every _REACH_GROWTH frames unseen (as the tracker's reach).
_REACH = 1.5
_REACH_GROWTH = 10
# The size may change by this factor per _SIZE_GROWTH frames of gap (a zoom).
_SIZE_CHANGE = 1.5
_SIZE_GROWTH = 10
# A face box within this share of the frame's size from an edge may be leaving it.
_EDGE = 0.04
# Likeness (appearance.similarity) of two tracks' looks to join them, or to suggest it.
_JOIN = 0.6
_SUGGEST = 0.35
# Two IDs whose boxes overlap this much on nearly every frame both are there
# and one is detected (_SAME_FACE_SHARE of at least _SAME_FACE_FRAMES such
# frames), or on every frame both are detected (at least _SAME_FACE_BOTH),
# are two tracks on one face.
_SAME_FACE_IOU = 0.3
_SAME_FACE_FRAMES = 4
_SAME_FACE_SHARE = 0.9
_SAME_FACE_BOTH = 2
# An ID whose best detection scored under this is low-confidence.
_LOW = 0.5


@dataclass
class FaceEvidence:
    """What one ID showed over the video: its detections' ends, scores and look."""

    face_id: int
    first: int = -1
    last: int = -1
    head: list[tuple[int, NDArray[np.float64]]] = field(default_factory=list)
    tail: deque[tuple[int, NDArray[np.float64]]] = field(
        default_factory=lambda: deque(maxlen=_ENDS)
    )
    detections: int = 0
    best_score: float = 0.0
    look_total: NDArray[np.float64] = field(default_factory=lambda: np.zeros(SIZE))
    look_count: NDArray[np.int64] = field(default_factory=lambda: np.zeros(SIZE, np.int64))

    def add(self, frame: int, face: TrackedFace) -> None:
        box = np.asarray(face.xyxy, np.float64)
        if self.first < 0:
            self.first = frame
        self.last = frame
        if len(self.head) < _ENDS:
            self.head.append((frame, box))
        self.tail.append((frame, box))
        self.detections += 1
        self.best_score = max(self.best_score, face.score)
        if face.look is not None:
            shown = np.isfinite(face.look)
            self.look_total[shown] += face.look[shown]
            self.look_count += shown

    def look(self) -> NDArray[np.float32]:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.look_total / self.look_count
        return np.where(self.look_count > 0, mean, np.nan).astype(np.float32)


class EvidenceLog:
    """Collects each ID's evidence from settled frames (detected faces only).

    Also counts, for two IDs on the same frames (one of them detected there),
    on how many their boxes overlapped: two tracks on one face (second boxes
    on a tilted head, taking turns) overlap on every such frame, two people
    only while they pass.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.faces: dict[int, FaceEvidence] = {}
        # (smaller ID, larger ID) -> frames both there and one detected, of them
        # frames they overlapped, frames both detected, of them frames they overlapped
        self.together: dict[tuple[int, int], list[int]] = {}
        # first frames of shots after a cut: no person is joined across one
        self.cuts: list[int] = []

    def cut(self, frame: int) -> None:
        """A cut before ``frame``: a face after it is never joined to one before it."""
        self.cuts.append(frame)

    def add(self, frame: int, faces: Iterable[TrackedFace]) -> None:
        faces = list(faces)
        for face in faces:
            evidence = self.faces.setdefault(face.track_id, FaceEvidence(face.track_id))
            if face.detected:
                evidence.add(frame, face)
        if len(faces) < 2:
            return
        overlap = box_iou([f.xyxy for f in faces], [f.xyxy for f in faces])
        for i, j in itertools.combinations(range(len(faces)), 2):
            if not (faces[i].detected or faces[j].detected):
                continue
            a, b = sorted((faces[i].track_id, faces[j].track_id))
            counts = self.together.setdefault((a, b), [0, 0, 0, 0])
            same = bool(overlap[i, j] >= _SAME_FACE_IOU)
            counts[0] += 1
            counts[1] += same
            if faces[i].detected and faces[j].detected:
                counts[2] += 1
                counts[3] += same


@dataclass(frozen=True)
class IdAssessment:
    """One final face ID: how sure it is a face."""

    face_id: int
    confidence: float
    low_confidence: bool


@dataclass(frozen=True)
class Identities:
    """The analysis's final IDs.

    Attributes:
        final: tracker ID -> final ID (IDs joined into one person share one;
            final IDs are numbered 1, 2, ... in order of first appearance).
        assessments: one per final ID, in ID order.
        suggestions: (smaller ID, larger ID, score): pairs that may be one person.
    """

    final: dict[int, int]
    assessments: tuple[IdAssessment, ...] = ()
    suggestions: tuple[tuple[int, int, float], ...] = ()

    def of(self, track_id: int) -> int:
        return self.final.get(track_id, track_id)


def _centre_size(box: NDArray[np.float64]) -> tuple[NDArray[np.float64], float]:
    return (box[:2] + box[2:]) / 2, float(max(box[2] - box[0], box[3] - box[1], 1.0))


def _velocity(ends: list[tuple[int, NDArray[np.float64]]]) -> NDArray[np.float64]:
    (f0, b0), (f1, b1) = ends[0], ends[-1]
    if f1 == f0:
        return np.zeros(2)
    return ((b1[:2] + b1[2:]) - (b0[:2] + b0[2:])) / 2 / (f1 - f0)


def _at_edge(box: NDArray[np.float64], width: int, height: int) -> bool:
    mx, my = _EDGE * width, _EDGE * height
    return bool(box[0] <= mx or box[1] <= my or box[2] >= width - mx or box[3] >= height - my)


def _plausible(a: FaceEvidence, b: FaceEvidence, width: int, height: int) -> bool:
    """Whether ``b`` can be ``a`` after the gap, by place and size."""
    gap = b.first - a.last
    end, start = a.tail[-1][1], b.head[0][1]
    end_centre, end_size = _centre_size(end)
    start_centre, start_size = _centre_size(start)
    if max(end_size / start_size, start_size / end_size) > _SIZE_CHANGE ** (1 + gap / _SIZE_GROWTH):
        return False
    if _at_edge(end, width, height) and _at_edge(start, width, height):
        return True  # left the frame and came back
    reach = _REACH * (1 + gap / _REACH_GROWTH) * max(end_size, start_size)
    forward = end_centre + _velocity(list(a.tail)) * gap
    backward = start_centre - _velocity(b.head) * gap
    miss = min(np.linalg.norm(forward - start_centre), np.linalg.norm(backward - end_centre))
    return bool(miss <= reach)


def link_score(
    a: FaceEvidence, b: FaceEvidence, width: int, height: int, cuts: Iterable[int] = ()
) -> float:
    """0..1: how likely the later ``b`` is ``a`` again (0: it cannot be; a cut
    between them, one of ``cuts``, says it cannot: another shot is another place)."""
    if a.first < 0 or b.first < 0 or not a.last < b.first <= a.last + _HORIZON:
        return 0.0
    if any(a.last < cut <= b.first for cut in cuts):
        return 0.0
    if not _plausible(a, b, width, height):
        return 0.0
    alike = float(similarity(a.look(), b.look())[0, 0])
    return 0.0 if np.isnan(alike) else alike


def confidence(evidence: Iterable[FaceEvidence]) -> float:
    """0..1: how sure it is that these detections (of one ID) are a face: the
    detector's best score on any of them. On the video evaluation's scenes
    every ID on a face scored 0.67 or more somewhere, every ID on no face 0.42
    or less, however often it was found (a patch of wall is found again and
    again, as weakly)."""
    return max((e.best_score for e in evidence), default=0.0)


def assess(log: EvidenceLog) -> Identities:
    """Join tracks into people and say how sure each final ID is (see the module doc)."""
    ids = sorted(log.faces)
    faces = [log.faces[i] for i in ids]
    scores = np.array(
        [[link_score(a, b, log.width, log.height, log.cuts) for b in faces] for a in faces],
        np.float64,
    ).reshape(len(faces), len(faces))
    cost = np.where(scores >= _SUGGEST, 1.0 - scores, np.inf)
    parent = {i: i for i in ids}

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    weak: list[tuple[int, int, float]] = []
    for (a, b), (there, overlapping, both, both_overlapping) in sorted(log.together.items()):
        # (not by look: a second box on a tilted head covers other parts of it)
        turns = there >= _SAME_FACE_FRAMES and overlapping >= _SAME_FACE_SHARE * there
        if turns or (both >= _SAME_FACE_BOTH and both_overlapping == both):
            parent[max(root(a), root(b))] = min(root(a), root(b))
    for row, col in assign(cost):
        a, b, score = ids[row], ids[col], float(scores[row, col])
        if score >= _JOIN:
            ra, rb = root(a), root(b)
            parent[max(ra, rb)] = min(ra, rb)
        else:
            weak.append((a, b, score))
    members: dict[int, list[int]] = {}
    for i in ids:
        members.setdefault(root(i), []).append(i)
    order = sorted(members, key=lambda r: min(members[r]))
    final = {i: n for n, r in enumerate(order, start=1) for i in members[r]}
    assessments = []
    for n, r in enumerate(order, start=1):
        sure = confidence(log.faces[i] for i in members[r])
        assessments.append(IdAssessment(n, round(sure, 3), sure < _LOW))
    # a merge is suggested only between two IDs that are surely faces: a
    # reviewer asked whether a face and a hand are one person learns nothing
    low = {a.face_id for a in assessments if a.low_confidence}
    suggestions = {
        (min(final[a], final[b]), max(final[a], final[b])): round(score, 3)
        for a, b, score in weak
        if final[a] != final[b] and final[a] not in low and final[b] not in low
    }
    return Identities(
        final,
        tuple(assessments),
        tuple((a, b, s) for (a, b), s in sorted(suggestions.items())),
    )
