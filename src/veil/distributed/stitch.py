"""Stitching: per-segment tracks -> one set of global face IDs and each frame's faces.

Two neighbouring segments both analysed the frames where their windows
overlap, with the same detector on the same decoded pictures, so they found
the same faces there. A track of one segment and a track of the next are the
same face when they hold overlapping detections (IoU >= ``min_iou``) on a
frame both analysed, paired one-to-one by the tracker's own optimal
assignment; the links are joined with union-find, so a face crossing several
segments gets one ID.

Global IDs are numbered as the whole-video tracker numbers them, in the
order faces were born: by each face's first detection that the tracker took
(frame, then position in that frame's detections); boxes found later by
searching back from a birth do not count.

A frame's faces are the union over every segment that analysed it with
enough look-ahead (its owner always does): where two views give the same
face different boxes, the box covering both is kept, so a seam can only
blur more than a whole-video run, never less.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from veil.distributed.tasks import SegmentFaces
from veil.geometry import box_iou
from veil.track import TrackedFace
from veil.track.association import assign


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(self, node: tuple[int, int]) -> tuple[int, int]:
        parent = self.parent.setdefault(node, node)
        if parent != node:
            parent = self.parent[node] = self.find(parent)
        return parent

    def union(self, a: tuple[int, int], b: tuple[int, int]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _detections_by_frame(view: SegmentFaces, lo: int, hi: int) -> dict[int, NDArray[np.int64]]:
    rows = np.flatnonzero(view.detected & (view.frame >= lo) & (view.frame < hi))
    grouped: dict[int, list[int]] = defaultdict(list)
    for row in rows.tolist():
        grouped[int(view.frame[row])].append(row)
    return {f: np.array(r, np.int64) for f, r in grouped.items()}


def link_tracks(views: Sequence[SegmentFaces], min_iou: float = 0.5) -> _UnionFind:
    """Join the tracks of neighbouring segments that hold the same detections."""
    links = _UnionFind()
    for view in views:
        for track in np.unique(view.track).tolist():
            links.find((view.segment.number, track))
    for a, b in itertools.pairwise(views):
        lo = max(a.segment.window_start, b.segment.window_start)
        hi = min(a.segment.window_stop, b.segment.window_stop)
        ours, theirs = _detections_by_frame(a, lo, hi), _detections_by_frame(b, lo, hi)
        for frame, rows_a in ours.items():
            rows_b = theirs.get(frame)
            if rows_b is None:
                continue
            overlap = box_iou(a.xyxy[rows_a], b.xyxy[rows_b])
            # one-to-one, as the tracker pairs faces: the most pairs, then the closest
            cost = np.where(overlap >= min_iou, 1.0 - overlap, np.inf)
            for i, j in assign(cost):
                links.union(
                    (a.segment.number, int(a.track[rows_a[i]])),
                    (b.segment.number, int(b.track[rows_b[j]])),
                )
    return links


def stitch(
    views: Sequence[SegmentFaces], frame_count: int, min_iou: float = 0.5
) -> list[list[TrackedFace]]:
    """Each frame's faces with global IDs, from every segment's analysis (in segment order)."""
    views = sorted(views, key=lambda v: v.segment.number)
    links = link_tracks(views, min_iou)
    # which rows speak for each frame: the owner's, and a neighbour's where its tracker
    # had enough look-ahead
    merged: list[dict[tuple[int, int], list]] = [{} for _ in range(frame_count)]
    first_seen: dict[tuple[int, int], tuple[int, int]] = {}
    for view in views:
        number = view.segment.number
        for row in range(len(view.frame)):
            frame = int(view.frame[row])
            root = links.find((number, int(view.track[row])))
            if view.column[row] >= 0:  # a detection the tracker took (not one searched back)
                key = (frame, int(view.column[row]))
                if root not in first_seen or key < first_seen[root]:
                    first_seen[root] = key
            owned = view.segment.start <= frame < view.segment.stop
            if not owned and frame >= view.reliable_until:
                continue
            box = view.xyxy[row].astype(np.float64)
            face = merged[frame].get(root)
            # the look the owner's tracker learnt (a neighbour's only where the owner has none)
            look = view.looks[row] if np.isfinite(view.looks[row]).any() else None
            if face is None:
                merged[frame][root] = [
                    box,
                    bool(view.detected[row]),
                    float(view.score[row]),
                    look,
                    owned,
                ]
            else:
                face[0] = np.concatenate(
                    [np.minimum(face[0][:2], box[:2]), np.maximum(face[0][2:], box[2:])]
                )
                face[1] = face[1] or bool(view.detected[row])
                face[2] = max(face[2], float(view.score[row]))
                if look is not None and (owned or face[3] is None):
                    face[3] = look
    used = {root for frame in merged for root in frame}
    order = sorted(used, key=lambda root: first_seen.get(root, (frame_count, 0)))
    global_id = {root: n for n, root in enumerate(order, start=1)}
    result: list[list[TrackedFace]] = []
    for frame in merged:
        faces = [
            TrackedFace(global_id[root], _xyxy(box), detected, score, look)
            for root, (box, detected, score, look, _) in frame.items()
        ]
        result.append(sorted(faces, key=lambda f: f.track_id))
    return result


def _xyxy(box: NDArray[np.float64]) -> tuple[float, float, float, float]:
    # the boxes came from float32: keep exactly those values
    x0, y0, x1, y1 = (float(np.float32(v)) for v in box)
    return x0, y0, x1, y1
