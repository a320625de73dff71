"""Scores of a redacted video against its original and ground truth: pure functions.

Everything is computed from output pixels, so any tool can be scored.

**Leaks.** A face-frame is *scored* when its box is at least ``MIN_FACE`` px on
its shorter side and at least ``MIN_VISIBLE`` of the face is visible. It has
*leaked* when the output's face box is still structurally similar to the
original's: SSIM >= ``LEAK_SSIM``. Before SSIM, both crops (the box clipped to
the frame) are

1. turned grey (Rec. 601 luma),
2. resized to ``CROP_SIZE`` x ``CROP_SIZE`` px (area averaging down, bilinear
   up), so a 500 px face and a 15 px face are judged at the same scale: the
   scale at which a face is recognised, not its skin texture. A strong blur of
   a big face then scores as low as one of a small face, and a big face that is
   only lightly softened is still caught;
3. mapped by the same affine transform that gives the original crop mean 128
   and standard deviation 50 (standard deviation floored at 2 grey levels), so a
   dim face is judged like a bright one: SSIM's stabilising constants would
   otherwise call any low-contrast crop "similar", and a blurred face in a
   night scene would count as a leak.

SSIM then uses a 7 x 7 uniform window (``SSIM_WINDOW``) on the 48 px crop:
about an eye's width, 1/7 of the face, whatever its size in the video.

**Background altered.** Pixels outside every ground-truth face box grown by
``BACKGROUND_GROW`` about its centre (plus 2 px) whose grey value, averaged
over 3 x 3, differs from the original by more than ``ALTERED_LEVELS``. The
threshold is calibrated on plain re-encodes of the scenarios (veil's encoder
and deface's with its redaction off), which must score about 0: see
``bench/eval_video.py --controls``.

**Tracking.** IDF1 (Ristani et al. 2016) and ID switches (CLEAR MOT) with
matches at IoU >= ``TRACK_IOU``, implemented here with scipy's
``linear_sum_assignment`` (motmetrics 1.4.0 calls ``np.asfarray``, removed in
NumPy 2). Boxes are clipped to the frame first (detectors' boxes end at
the edge; true boxes do not). Ground-truth faces that are under ``MIN_FACE``
px, less than ``MIN_TRACK_VISIBLE`` visible or mostly outside the frame are
"don't care": a box at least half inside one is neither a hit nor a false
alarm (so a tracker that keeps a hidden face covered is not penalised).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from skimage.metrics import structural_similarity

from veil.geometry import area, box_iou, intersection

Box = tuple[float, float, float, float]

LEAK_SSIM = 0.6
MIN_FACE = 10.0
MIN_VISIBLE = 0.6
CROP_SIZE = 48
SSIM_WINDOW = 7
NORM_MEAN, NORM_STD, MIN_STD = 128.0, 50.0, 2.0
BACKGROUND_GROW = 1.6
ALTERED_LEVELS = 12.0
TRACK_IOU = 0.5
MIN_TRACK_VISIBLE = 0.25


def grey(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Rec. 601 luma as float32."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def clip_box(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """``box`` rounded outwards and clipped to the frame; None when nothing is left."""
    x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    x1, y1 = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _normalised_crop(image: NDArray[np.float32], box: tuple[int, int, int, int]) -> NDArray:
    x0, y0, x1, y1 = box
    crop = image[y0:y1, x0:x1]
    shrink = crop.shape[0] >= CROP_SIZE and crop.shape[1] >= CROP_SIZE
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(crop, (CROP_SIZE, CROP_SIZE), interpolation=interp).astype(np.float64)


def face_similarity(original: NDArray[np.uint8], output: NDArray[np.uint8], box: Box) -> float:
    """SSIM of the face ``box`` in ``output`` against ``original`` (see the module doc).

    Returns NaN when the box lies outside the frame.
    """
    if original.shape != output.shape:
        raise ValueError(f"frame shapes differ: {original.shape} vs {output.shape}")
    clipped = clip_box(box, original.shape[1], original.shape[0])
    if clipped is None:
        return float("nan")
    a = _normalised_crop(grey(original), clipped)
    b = _normalised_crop(grey(output), clipped)
    mean, std = a.mean(), max(a.std(), MIN_STD)
    a = (a - mean) * (NORM_STD / std) + NORM_MEAN
    b = (b - mean) * (NORM_STD / std) + NORM_MEAN
    return float(structural_similarity(a, b, win_size=SSIM_WINDOW, data_range=255.0))


def is_scored(box: Box, visible: float) -> bool:
    """Whether a face-frame counts for leaks: big enough and visible enough."""
    return min(box[2] - box[0], box[3] - box[1]) >= MIN_FACE and visible >= MIN_VISIBLE


@dataclass(frozen=True)
class FaceFrame:
    """One face in one frame: its SSIM against the original, NaN if not scored."""

    frame: int
    face_id: int
    ssim: float

    @property
    def scored(self) -> bool:
        return not np.isnan(self.ssim)

    @property
    def leaked(self) -> bool:
        return self.scored and self.ssim >= LEAK_SSIM


def score_frame(
    index: int,
    original: NDArray[np.uint8],
    output: NDArray[np.uint8],
    faces: Iterable[tuple[int, Box, float]],
) -> list[FaceFrame]:
    """Scores each (id, box, visible fraction) face of one frame."""
    scores = []
    for face_id, box, visible in faces:
        ssim = face_similarity(original, output, box) if is_scored(box, visible) else float("nan")
        scores.append(FaceFrame(index, face_id, ssim))
    return scores


def longest_run(frames: Iterable[int]) -> int:
    """Length of the longest run of consecutive integers in ``frames``."""
    best = run = 0
    previous = None
    for f in sorted(set(frames)):
        run = run + 1 if previous is not None and f == previous + 1 else 1
        best = max(best, run)
        previous = f
    return best


@dataclass(frozen=True)
class LeakSummary:
    """Leaks over a video: rate over scored face-frames and the longest run for one face."""

    face_frames: int
    leaked: int
    longest_run: int
    longest_run_id: int | None
    leaked_frames: dict[int, list[int]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.leaked / self.face_frames if self.face_frames else 0.0


def summarize_leaks(scores: Iterable[FaceFrame]) -> LeakSummary:
    """Leak rate and longest leaked run (a frame not leaked, scored or not, ends a run)."""
    scored = leaked = 0
    per_face: dict[int, list[int]] = {}
    for s in scores:
        scored += s.scored
        if s.leaked:
            leaked += 1
            per_face.setdefault(s.face_id, []).append(s.frame)
    runs = {face_id: longest_run(frames) for face_id, frames in per_face.items()}
    worst = max(runs, key=lambda k: runs[k], default=None)
    return LeakSummary(scored, leaked, runs[worst] if worst is not None else 0, worst, per_face)


def grow(box: Box, scale: float, margin: float = 0.0) -> Box:
    """``box`` scaled about its centre, then ``margin`` px added on every side."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw = (box[2] - box[0]) * scale / 2 + margin
    hh = (box[3] - box[1]) * scale / 2 + margin
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def background_mask(
    height: int, width: int, boxes: Iterable[Box], scale: float = BACKGROUND_GROW
) -> NDArray[np.bool_]:
    """True outside every face box grown by ``scale`` (and 2 px)."""
    mask = np.ones((height, width), bool)
    for box in boxes:
        clipped = clip_box(grow(box, scale, 2.0), width, height)
        if clipped is not None:
            x0, y0, x1, y1 = clipped
            mask[y0:y1, x0:x1] = False
    return mask


def altered(
    original: NDArray[np.uint8], output: NDArray[np.uint8], levels: float = ALTERED_LEVELS
) -> NDArray[np.bool_]:
    """Pixels whose grey value, averaged over 3 x 3, changed by more than ``levels``."""
    diff = np.abs(grey(original) - grey(output))
    return cv2.blur(diff, (3, 3)) > levels


def background_altered(
    original: NDArray[np.uint8],
    output: NDArray[np.uint8],
    boxes: Iterable[Box],
    levels: float = ALTERED_LEVELS,
) -> tuple[int, int]:
    """(altered background pixels, background pixels) of one frame."""
    mask = background_mask(original.shape[0], original.shape[1], boxes)
    return int((altered(original, output, levels) & mask).sum()), int(mask.sum())


# ---------------------------------------------------------------- tracking

FrameBoxes = Sequence[tuple[int, Box]]  # (id, xyxy) of one frame


@dataclass(frozen=True)
class IdScore:
    """Identity scores of a tracker's output against the ground truth.

    Attributes:
        idf1, idp, idr: identity F1, precision and recall.
        id_switches: CLEAR MOT ID switches.
        ids_per_face: distinct tracker IDs matched to each true face.
        ids: every tracker ID reported.
        no_face_ids: tracker IDs whose box never matched any face, hidden or
            small ones included (on background texture, hair, a wall).
        people: true faces scored at least once.
    """

    idf1: float
    idp: float
    idr: float
    id_switches: int
    ids_per_face: dict[int, int]
    ids: frozenset[int] = frozenset()
    no_face_ids: frozenset[int] = frozenset()
    people: int = 0

    @property
    def ids_per_person(self) -> float:
        """IDs on a face per person (1.0 is perfect): the thumbnails a reviewer
        looks through per person, fragments and second tracks on one face included."""
        return (len(self.ids) - len(self.no_face_ids)) / self.people if self.people else 0.0

    @property
    def no_face_share(self) -> float:
        """Share of the reported IDs on no face."""
        return len(self.no_face_ids) / len(self.ids) if self.ids else 0.0


def _care(box: Box, visible: float, width: int, height: int) -> bool:
    clipped = clip_box(box, width, height)
    if clipped is None or min(box[2] - box[0], box[3] - box[1]) < MIN_FACE:
        return False
    inside = (clipped[2] - clipped[0]) * (clipped[3] - clipped[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return visible >= MIN_TRACK_VISIBLE and inside >= 0.5 * area


def _inside(box: Box, width: int, height: int) -> Box:
    return (
        min(max(box[0], 0.0), width),
        min(max(box[1], 0.0), height),
        min(max(box[2], 0.0), width),
        min(max(box[3], 0.0), height),
    )


def _mostly_within(boxes: Sequence[Box], regions: Sequence[Box]) -> NDArray[np.bool_]:
    """Whether at least half of each box lies inside one of ``regions``."""
    inside = intersection(boxes, regions)
    return (inside >= 0.5 * np.maximum(area(boxes), 1e-9)[:, None]).any(axis=1)


def _frame_pairs(
    cared: list[tuple[int, Box]],
    hyps: list[tuple[int, Box]],
    overlap: NDArray[np.bool_],
    current: dict[int, int],
    iou: float,
) -> dict[int, int]:
    """One frame's (true id -> hyp id) pairs, by CLEAR MOT matching: keep last frame's
    pairs (``current``) that still overlap, assign the rest."""
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    hyp_index = {hid: j for j, (hid, _) in enumerate(hyps)}
    for i, (fid, _) in enumerate(cared):
        j = hyp_index.get(current.get(fid, -1))
        if j is not None and overlap[i, j] and j not in taken:
            pairs[fid] = hyps[j][0]
            taken.add(j)
    rest_i = [i for i, (fid, _) in enumerate(cared) if fid not in pairs]
    rest_j = [j for j in range(len(hyps)) if j not in taken]
    if rest_i and rest_j:
        scores = box_iou([cared[i][1] for i in rest_i], [hyps[j][1] for j in rest_j])
        rows, cols = linear_sum_assignment(-scores)
        for r, c in zip(rows, cols, strict=True):
            if scores[r, c] >= iou:
                pairs[cared[rest_i[r]][0]] = hyps[rest_j[c]][0]
    return pairs


def _id_true_positives(co: dict[tuple[int, int], int]) -> int:
    """Frames matched under the best one-to-one assignment of true IDs to reported IDs."""
    if not co:
        return 0
    gts = sorted({g for g, _ in co})
    hs = sorted({h for _, h in co})
    matrix = np.zeros((len(gts), len(hs)))
    for (g, h), n in co.items():
        matrix[gts.index(g), hs.index(h)] = n
    rows, cols = linear_sum_assignment(-matrix)
    return int(matrix[rows, cols].sum())


def id_scores(
    truth: Sequence[Sequence[tuple[int, Box, float]]],
    hypotheses: Sequence[FrameBoxes],
    width: int,
    height: int,
    iou: float = TRACK_IOU,
) -> IdScore:
    """IDF1, IDP, IDR, ID switches and the IDs on no face over a video.

    Args:
        truth: per frame, (id, box, visible fraction) of each true face.
        hypotheses: per frame, (track id, box) of each face the tool reported.
        width, height: the frame size (faces mostly outside it are "don't care").
        iou: the overlap at which a box matches a face.
    """
    co: dict[tuple[int, int], int] = {}  # (true id, hyp id) -> frames matched by IoU
    gt_total = hyp_total = switches = 0
    last: dict[int, int] = {}  # true id -> last matched hyp id
    current: dict[int, int] = {}  # true id -> hyp id matched in the previous frame
    matched_ids: dict[int, set[int]] = {}
    reported: set[int] = set()
    people: set[int] = set()
    on_faces: set[int] = set()
    for faces, frame_hyps in zip(truth, hypotheses, strict=True):
        cared = [
            (fid, _inside(box, width, height))
            for fid, box, vis in faces
            if _care(box, vis, width, height)
        ]
        ignored = [box for _, box, vis in faces if not _care(box, vis, width, height)]
        hyps = [(hid, _inside(box, width, height)) for hid, box in frame_hyps]
        hyps = [(hid, box) for hid, box in hyps if box[2] > box[0] and box[3] > box[1]]
        reported.update(hid for hid, _ in frame_hyps)
        every_face = [_inside(box, width, height) for _, box, _ in faces]
        on_any = box_iou(every_face, [b for _, b in hyps]) >= iou
        on_faces.update(hid for j, (hid, _) in enumerate(hyps) if on_any[:, j].any())
        overlap = box_iou([b for _, b in cared], [b for _, b in hyps]) >= iou
        on_ignored = _mostly_within([b for _, b in hyps], ignored)
        keep = [j for j in range(len(hyps)) if overlap[:, j].any() or not on_ignored[j]]
        gt_total += len(cared)
        people.update(fid for fid, _ in cared)
        hyp_total += len(keep)
        for i, (fid, _) in enumerate(cared):
            for j in np.flatnonzero(overlap[i]):
                key = (fid, hyps[j][0])
                co[key] = co.get(key, 0) + 1
        pairs = _frame_pairs(cared, hyps, overlap, current, iou)
        for fid, hid in pairs.items():
            if fid in last and last[fid] != hid:
                switches += 1
            last[fid] = hid
            matched_ids.setdefault(fid, set()).add(hid)
        current = pairs
    idtp = _id_true_positives(co)
    idp = idtp / hyp_total if hyp_total else 1.0
    idr = idtp / gt_total if gt_total else 1.0
    denom = gt_total + hyp_total
    idf1 = 2 * idtp / denom if denom else 1.0
    ids = {fid: len(h) for fid, h in sorted(matched_ids.items())}
    return IdScore(
        idf1,
        idp,
        idr,
        switches,
        ids,
        frozenset(reported),
        frozenset(reported - on_faces),
        len(people),
    )
