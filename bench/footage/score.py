"""Scores of one tool's output on one labelled clip: pure functions and one pass over frames.

**Coverage.** The share of a labelled face box (clipped to the frame) lying
under the tool's mask. veil's mask is drawn from the annotations it wrote
(each box made the head ellipse veil's renderer draws, ``veil.redact.effects``
at its defaults); a tool that writes no annotations (deface) is judged from
pixels: the pixels it altered (``veil.evaluation.metrics.altered``), closed
and with holes filled (a blur leaves flat skin nearly unchanged inside the
altered outline), :func:`pixel_mask`.

**Leak.** A face-frame leaks when less than ``COVERED`` of its box lies under
the mask, or when eval-real's verdict says so (SSIM of the face >= 0.6, only on
faces of at least 10 px: ``veil.evaluation.metrics``). Heads turned fully
away are scored apart with the same verdict.

**Over-redaction.** The share of the frame's area under the mask outside every
labelled face grown 1.6x about its centre (the head around it, as eval-real's
background).

**IDs.** IDF1 and IDs per person from ``metrics.id_scores`` (IoU >= 0.5; heads
turned away are "don't care"); an ID *lies on no face* when on none of its
frames its box overlaps a labelled face or head by IoU >= ``ON_FACE_IOU``; IDs per
person count the IDs on faces (not those only on heads turned away) over the people
with a face.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import cv2
import numpy as np
from bench.footage.labels import Box, LabelFace
from numpy.typing import NDArray

from veil.evaluation.metrics import (
    altered,
    background_mask,
    clip_box,
    face_similarity,
    id_scores,
    is_scored,
    longest_run,
)
from veil.geometry import box_iou
from veil.redact.effects import RedactionConfig, mask_extent

COVERED = 0.9
ON_FACE_IOU = 0.3
A = TypeVar("A")
T = TypeVar("T")


def coverage(mask: NDArray[np.bool_], box: Box) -> float:
    """The share of ``box`` (clipped to the frame) set in ``mask``; 1.0 if off-frame."""
    clipped = clip_box(box, mask.shape[1], mask.shape[0])
    if clipped is None:
        return 1.0
    x0, y0, x1, y1 = clipped
    return float(mask[y0:y1, x0:x1].mean())


def annotation_mask(boxes: Iterable[Box], width: int, height: int) -> NDArray[np.bool_]:
    """The area veil's default renderer hides for face ``boxes``: a head ellipse each."""
    config = RedactionConfig()
    mask = np.zeros((height, width), np.uint8)
    for box in boxes:
        x0, y0, x1, y1 = mask_extent(*box, config)
        centre = (round((x0 + x1) / 2 * 16), round((y0 + y1) / 2 * 16))
        axes = (round(max((x1 - x0) / 2, 0.5) * 16), round(max((y1 - y0) / 2, 0.5) * 16))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, thickness=-1, shift=4)
    return mask.astype(bool)


def pixel_mask(original: NDArray[np.uint8], output: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """What a tool changed, from pixels: altered pixels, closed, holes filled."""
    changed = altered(original, output).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    closed = cv2.morphologyEx(changed, cv2.MORPH_CLOSE, kernel)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(closed)
    cv2.drawContours(filled, contours, -1, 1, thickness=-1)
    return filled.astype(bool)


def outside_heads(mask: NDArray[np.bool_], faces: Sequence[LabelFace]) -> int:
    """Pixels of ``mask`` outside every labelled face grown to its head."""
    height, width = mask.shape
    return int((mask & background_mask(height, width, [f.box for f in faces])).sum())


def aligned(
    items: Iterable[tuple[float, A]], outputs: Iterable[tuple[float, T]]
) -> Iterator[tuple[A, T | None]]:
    """Each item of ``items`` ((time, item), ascending) with the item of ``outputs``
    ((time, item), ascending) nearest in time (the earlier on a tie; None when
    ``outputs`` is empty): a
    tool that changes the frame rate is scored on the frames shown at the labels' times."""
    it = iter(outputs)
    current = next(it, None)
    upcoming = next(it, None)
    for t, item in items:
        while upcoming is not None and abs(upcoming[0] - t) < abs(current[0] - t):
            current, upcoming = upcoming, next(it, None)
        yield item, None if current is None else current[1]


def from_zero(items: Iterable[tuple[float, T]]) -> Iterator[tuple[float, T]]:
    """``items`` ((time, item)) with times counted from the first: a tool may start its
    output at 0 where the input started later (deface on a Matroska clip that starts
    at 1/30 s)."""
    start = None
    for t, item in items:
        start = t if start is None else start
        yield t - start, item


@dataclass(frozen=True)
class FaceResult:
    """One labelled face in one frame."""

    frame: int
    person: int
    covered: float
    ssim: float
    away: bool

    @property
    def scored(self) -> bool:
        return True

    @property
    def leaked(self) -> bool:
        return self.covered < COVERED or (not np.isnan(self.ssim) and self.ssim >= 0.6)


def judge_face(
    frame: int,
    original: NDArray[np.uint8],
    output: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    face: LabelFace,
) -> FaceResult:
    box = face.box
    ssim = face_similarity(original, output, box) if is_scored(box, 1.0) else float("nan")
    return FaceResult(frame, face.person, coverage(mask, box), ssim, face.away)


@dataclass
class ClipScore:
    """One tool on one clip."""

    clip: str
    tool: str
    frames: int
    seconds: float
    faces: list[FaceResult] = field(default_factory=list)
    masked_outside: int = 0  # mask pixels outside labelled heads, summed over frames
    area: int = 0  # frame pixels, summed over frames
    idf1: float | None = None
    ids: int | None = None
    ids_on_no_face: int | None = None
    people: int = 0
    ids_on_faces: int | None = None

    def _faces(self, away: bool) -> list[FaceResult]:
        return [f for f in self.faces if f.away == away]

    @property
    def face_frames(self) -> int:
        return len(self._faces(False))

    @property
    def leaked(self) -> int:
        return sum(f.leaked for f in self._faces(False))

    @property
    def away_frames(self) -> int:
        return len(self._faces(True))

    @property
    def away_leaked(self) -> int:
        return sum(f.leaked for f in self._faces(True))

    @property
    def worst_run(self) -> int:
        """The longest run of consecutive leaked frames of one person (faces only)."""
        return max(worst_runs(self._faces(False)).values(), default=0)

    @property
    def over_redaction(self) -> float:
        return self.masked_outside / self.area if self.area else 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    @property
    def no_face_share(self) -> float | None:
        if self.ids is None or self.ids_on_no_face is None:
            return None
        return self.ids_on_no_face / self.ids if self.ids else 0.0

    @property
    def ids_per_person(self) -> float | None:
        if self.ids_on_faces is None or not self.people:
            return None
        return self.ids_on_faces / self.people

    def as_json(self) -> dict:
        leaked: dict[str, list[int]] = {}
        for f in self._faces(False):
            if f.leaked:
                leaked.setdefault(str(f.person), []).append(f.frame)
        return {
            "clip": self.clip,
            "tool": self.tool,
            "frames": self.frames,
            "seconds": round(self.seconds, 2),
            "fps": round(self.fps, 2),
            "face_frames": self.face_frames,
            "leaked": self.leaked,
            "worst_run": self.worst_run,
            "away_frames": self.away_frames,
            "away_leaked": self.away_leaked,
            "over_redaction": self.over_redaction,
            "ids": self.ids,
            "ids_on_no_face": self.ids_on_no_face,
            "ids_on_faces": self.ids_on_faces,
            "people": self.people,
            "idf1": self.idf1,
            "leaked_frames": {p: ranges_text(v) for p, v in leaked.items()},
        }


def worst_runs(faces: Iterable[FaceResult]) -> dict[int, int]:
    """Per person, the longest run of consecutive leaked frames."""
    per: dict[int, list[int]] = {}
    for f in faces:
        if f.leaked:
            per.setdefault(f.person, []).append(f.frame)
    return {p: longest_run(frames) for p, frames in per.items()}


def ranges_text(frames: Sequence[int]) -> str:
    from bench.footage.labels import ranges

    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges(frames))


def id_figures(
    truth: Sequence[Sequence[LabelFace]],
    hyps: Sequence[Sequence[tuple[int, Box]]],
    width: int,
    height: int,
) -> dict:
    """IDF1, IDs, IDs on no labelled face or head, IDs on faces, people with a face.

    An ID on a head turned away is neither on no face nor one of a person's IDs."""
    faces = [[(f.person, f.box, 0.0 if f.away else 1.0) for f in frame] for frame in truth]
    scores = id_scores(faces, hyps, width, height)
    on_face: set[int] = set()
    on_head: set[int] = set()
    for frame, boxes in zip(truth, hyps, strict=True):
        if frame and boxes:
            overlap = box_iou([f.box for f in frame], [b for _, b in boxes]) >= ON_FACE_IOU
            away = np.array([f.away for f in frame])
            for j, (hid, _) in enumerate(boxes):
                if overlap[~away, j].any():
                    on_face.add(hid)
                elif overlap[away, j].any():
                    on_head.add(hid)
    ids = {hid for boxes in hyps for hid, _ in boxes}
    return {
        "idf1": scores.idf1 if scores.people else None,
        "ids": len(ids),
        "ids_on_no_face": len(ids - on_face - on_head),
        "ids_on_faces": len(ids & on_face),
        "people": scores.people,
    }


def totals(scores: Sequence[ClipScore]) -> dict:
    """One tool's figures over several clips."""
    frames = sum(s.frames for s in scores)
    seconds = sum(s.seconds for s in scores)
    face_frames = sum(s.face_frames for s in scores)
    leaked = sum(s.leaked for s in scores)
    ids = [s for s in scores if s.ids is not None]
    people = sum(s.people for s in ids)
    with_faces = [s for s in scores if s.face_frames]
    return {
        "frames": frames,
        "fps": frames / seconds if seconds else 0.0,
        "face_frames": face_frames,
        "leaked": leaked,
        "leak_rate": leaked / face_frames if face_frames else 0.0,
        "worst_run": max((s.worst_run for s in scores), default=0),
        "away_frames": sum(s.away_frames for s in scores),
        "away_leaked": sum(s.away_leaked for s in scores),
        "over_redaction": sum(s.masked_outside for s in scores)
        / max(sum(s.area for s in scores), 1),
        "over_redaction_no_face_clips": _mean_over([s for s in scores if not s.face_frames]),
        "over_redaction_face_clips": _mean_over(with_faces),
        "ids": sum(s.ids for s in ids) if ids else None,
        "ids_on_no_face": sum(s.ids_on_no_face for s in ids) if ids else None,
        "ids_per_person": sum(s.ids_on_faces for s in ids) / people if people else None,
    }


def _mean_over(scores: Sequence[ClipScore]) -> float | None:
    area = sum(s.area for s in scores)
    return sum(s.masked_outside for s in scores) / area if area else None
