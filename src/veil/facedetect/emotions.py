"""Emotion scores of every tracked face in every frame, smoothed along each track.

Faces come from the annotations analysis made (the redaction's code path);
the video is decoded a second time to crop each annotated box from the
upright frame, and the faces of one frame are scored as one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from veil.annotations import AnnotationIndex, Annotations, to_ticks
from veil.emotion import EMOTIONS, EmotionModel
from veil.media.orientation import to_upright
from veil.types import DecodedFrame

# Scores are averaged over this span centred on each frame of a track: the
# model sees each frame alone and flickers between neighbouring classes.
SMOOTH_MS = 250.0


@dataclass(frozen=True, eq=False)
class FaceEmotions:
    """One row per face per frame, sorted by (face ID, frame).

    Attributes:
        frame: (K,) frame index.
        face_id: (K,) track ID.
        tick: (K,) frame start in ticks of the annotations' timescale.
        scores: (K, 8) scores in :data:`veil.emotion.EMOTIONS` order, each row summing to 1.
    """

    frame: NDArray[np.int64]
    face_id: NDArray[np.int64]
    tick: NDArray[np.int64]
    scores: NDArray[np.float32]

    @classmethod
    def empty(cls) -> FaceEmotions:
        none = np.zeros(0, np.int64)
        return cls(none, none, none, np.zeros((0, len(EMOTIONS)), np.float32))

    def __len__(self) -> int:
        return len(self.frame)

    def lookup(self) -> dict[tuple[int, int], NDArray[np.float32]]:
        """{(frame, face ID): scores}."""
        return {
            (int(f), int(i)): s
            for f, i, s in zip(self.frame.tolist(), self.face_id.tolist(), self.scores, strict=True)
        }

    def smoothed(self, span_ticks: int) -> FaceEmotions:
        """Each row replaced by the mean of its track's rows within ``span_ticks / 2`` of it."""
        if span_ticks <= 0 or not len(self):
            return self
        half = span_ticks / 2
        out = np.empty_like(self.scores)
        for face_id in np.unique(self.face_id):
            rows = np.flatnonzero(self.face_id == face_id)
            ticks = self.tick[rows]
            sums = np.vstack([np.zeros((1, len(EMOTIONS))), np.cumsum(self.scores[rows], axis=0)])
            lo = np.searchsorted(ticks, ticks - half, side="left")
            hi = np.searchsorted(ticks, ticks + half, side="right")
            out[rows] = (sums[hi] - sums[lo]) / (hi - lo)[:, None]
        return FaceEmotions(self.frame, self.face_id, self.tick, out.astype(np.float32))


def detected_spans(annotations: Annotations) -> dict[int, tuple[int, int]]:
    """{face ID: (first, last) frame index where the detector found it}.

    Tracks are padded with extrapolated boxes before a face is first found and
    after it is last found (the detector is late and early), where the box may
    hold no face yet. veil's annotations mark detected boxes with
    ``confidence``; a track with none marked is taken as detected throughout.
    """
    spans: dict[int, tuple[int, int]] = {}
    for fragment in annotations.fragments:
        for event in fragment.events or ():
            for face in event:
                if face.confidence is None or face.index is None:
                    continue
                first, last = spans.get(face.id, (face.index, face.index))
                spans[face.id] = (min(first, face.index), max(last, face.index))
    return spans


def score_faces(
    frames: Iterable[DecodedFrame],
    annotations: Annotations,
    rotation: int,
    model: EmotionModel,
    on_frame: Callable[[int], None] | None = None,
) -> FaceEmotions:
    """Scores every annotated face of ``frames`` (storage orientation, as decoded).

    The model runs on the frames where each track was detected or interpolated
    between detections; a padded frame before the first (after the last)
    detection gets the scores of the track's first (last) scored frame.
    """
    index = AnnotationIndex(annotations)
    spans = detected_spans(annotations)
    scored: list[tuple[int, int, int]] = []
    padded: list[tuple[int, int, int]] = []
    scores: list[NDArray[np.float32]] = []
    for frame in frames:
        tick = to_ticks(frame.time, annotations.timescale)
        boxes = []
        for box in index.faces_at(frame.time):
            first, last = spans.get(box.face_id, (frame.index, frame.index))
            if first <= frame.index <= last or box.face_id not in spans:
                boxes.append(box)
            else:
                padded.append((frame.index, box.face_id, tick))
        if boxes:
            upright = to_upright(frame.rgb, rotation)
            scores.append(model.scores(upright, [(b.x0, b.y0, b.x1, b.y1) for b in boxes]))
            scored.extend((frame.index, b.face_id, tick) for b in boxes)
        if on_frame is not None:
            on_frame(frame.index + 1)
    if not scored:
        return FaceEmotions.empty()
    table = np.array(scored, np.int64)
    all_scores = np.concatenate(scores)
    fill = _nearest_rows(table, np.array(padded, np.int64).reshape(-1, 3))
    keep = fill >= 0
    table = np.vstack([table, np.array(padded, np.int64).reshape(-1, 3)[keep]])
    all_scores = np.vstack([all_scores, all_scores[fill[keep]]])
    order = np.lexsort((table[:, 0], table[:, 1]))
    return FaceEmotions(
        table[order, 0], table[order, 1], table[order, 2], all_scores[order].astype(np.float32)
    )


def _nearest_rows(scored: NDArray[np.int64], wanted: NDArray[np.int64]) -> NDArray[np.int64]:
    """For each (frame, id, tick) in ``wanted``, the row of ``scored`` with that ID and the
    nearest frame; -1 where the ID has no scored row."""
    out = np.full(len(wanted), -1, np.int64)
    for i, (frame, face_id, _) in enumerate(wanted.tolist()):
        rows = np.flatnonzero(scored[:, 1] == face_id)
        if len(rows):
            out[i] = rows[np.argmin(np.abs(scored[rows, 0] - frame))]
    return out


def smooth_ticks(annotations: Annotations, smooth_ms: float = SMOOTH_MS) -> int:
    return round(Fraction(smooth_ms) / 1000 * annotations.timescale)
