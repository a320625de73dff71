"""Azure Media Face Detector's JSON: faces, per-face emotion and aggregate emotion.

All three share Azure's header (``version``, ``timescale``, ``offset``,
``framerate``, ``width``, ``height``) and ``fragments`` of ``start``,
``duration``, ``interval`` and ``events`` in ticks:

* faces / per-face emotion: the analysis' annotations, one event per frame,
  each face ``{id, x, y, width, height}`` normalised to the upright frame; a
  fragment in which no face is seen has only ``start`` and ``duration``, as
  Azure wrote it. Per-face emotion adds ``scores`` (the eight emotions, summing
  to 1) and veil's ``dominantEmotion``.
* aggregate emotion: one event every interval, each ``[{windowFaceDistribution,
  windowMeanScores}]`` over the window that ends where the event ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from veil.annotations import Annotations
from veil.emotion import EMOTIONS
from veil.facedetect.emotions import FaceEmotions
from veil.facedetect.settings import AggregateSettings

FACE_DETECTOR_VERSION = 1
SCORE_DECIMALS = 6
# Azure's fragments last about 2 s (60 frames at 29.97 fps: 4 events of 15015 ticks).
FRAGMENT_SECONDS = 2


def _header(annotations: Annotations) -> dict:
    return {
        "version": FACE_DETECTOR_VERSION,
        "timescale": annotations.timescale,
        "offset": annotations.offset,
        "framerate": annotations.framerate,
        "width": annotations.width,
        "height": annotations.height,
    }


def score_dict(scores: NDArray[np.floating]) -> dict[str, float]:
    """{emotion: score} in Azure's order, rounded as Azure printed them."""
    return {name: round(float(v), SCORE_DECIMALS) for name, v in zip(EMOTIONS, scores, strict=True)}


def dominant(scores: NDArray[np.floating]) -> str:
    """The emotion with the highest score (the first in Azure's order on a tie)."""
    return EMOTIONS[int(np.argmax(scores))]


def faces_document(annotations: Annotations, emotions: FaceEmotions | None = None) -> dict:
    """Faces (or, with ``emotions``, per-face emotion) output from analysis' annotations."""
    lookup = emotions.lookup() if emotions is not None else None
    fragments = []
    for fragment in annotations.fragments:
        events = fragment.events or ()
        if not any(events):
            fragments.append({"start": fragment.start, "duration": fragment.duration})
            continue
        out_events = []
        for event in events:
            faces = []
            for face in event:
                item: dict = {
                    "id": face.id,
                    "x": face.x,
                    "y": face.y,
                    "width": face.width,
                    "height": face.height,
                }
                if lookup is not None:
                    scores = lookup.get((face.index, face.id))
                    if scores is not None:
                        item["scores"] = score_dict(scores)
                        item["dominantEmotion"] = dominant(scores)
                faces.append(item)
            out_events.append(faces)
        fragments.append(
            {
                "start": fragment.start,
                "duration": fragment.duration,
                "interval": fragment.interval,
                "events": out_events,
            }
        )
    return {**_header(annotations), "fragments": fragments}


def span_ticks(milliseconds: float, timescale: int, frame_rate: Fraction) -> int:
    """``milliseconds`` in ticks, a whole number of frames where frames are whole ticks.

    Azure counted its windows in frames: 500 ms at 29.97 fps (timescale 30000,
    1001 ticks a frame) is 15 frames, 15015 ticks. Where a frame is not a whole
    number of ticks (or the span is under one frame) the time is used as is.
    """
    exact = Fraction(milliseconds) / 1000
    frame_ticks = Fraction(timescale) / frame_rate if frame_rate > 0 else Fraction(0)
    # nearest whole frame, a half rounding up (veil rounds times the same way)
    frames = math.floor(exact * frame_rate + Fraction(1, 2)) if frame_rate > 0 else 0
    if frame_ticks.denominator == 1 and frames >= 1:
        return int(frames * frame_ticks)
    return max(1, round(exact * timescale))


@dataclass(frozen=True, eq=False)
class AggregateSeries:
    """Aggregate emotion events on one timeline.

    Attributes:
        start: tick of the first event.
        interval: ticks between events (and the length of each).
        window: ticks each event looks back over, ending where the event ends.
        distribution: (E, 8) share of the faces in each window whose dominant
            emotion is each emotion (zeros where no face is seen).
        mean_scores: (E, 8) mean score of those faces (zeros where none).
        faces: (E,) number of distinct faces in each window.
    """

    start: int
    interval: int
    window: int
    distribution: NDArray[np.float64]
    mean_scores: NDArray[np.float64]
    faces: NDArray[np.int64]

    def event_end(self, k: int) -> int:
        return self.start + (k + 1) * self.interval


def aggregate(
    emotions: FaceEmotions,
    start: int,
    end: int,
    interval: int,
    window: int,
) -> AggregateSeries:
    """Aggregate emotion events every ``interval`` ticks from ``start`` until ``end``.

    Event ``k`` covers ``[start + k*interval, start + (k+1)*interval)`` and
    aggregates the frames whose start lies in the ``window`` ticks ending where
    the event ends. Each face (track ID) seen in a window counts once: its
    scores are averaged over its frames there, its dominant emotion is the
    highest of that mean; ``windowFaceDistribution`` is the share of faces per
    dominant emotion and ``windowMeanScores`` the mean over faces.
    """
    count = max(1, math.ceil((end - start) / interval))
    distribution = np.zeros((count, len(EMOTIONS)))
    mean_scores = np.zeros((count, len(EMOTIONS)))
    faces = np.zeros(count, np.int64)
    order = np.argsort(emotions.tick, kind="stable")
    ticks, ids = emotions.tick[order], emotions.face_id[order]
    scores = emotions.scores[order].astype(np.float64)
    for k in range(count):
        hi_tick = start + (k + 1) * interval
        lo = np.searchsorted(ticks, hi_tick - window, side="left")
        hi = np.searchsorted(ticks, hi_tick, side="left")
        if hi <= lo:
            continue
        window_ids = ids[lo:hi]
        unique, inverse = np.unique(window_ids, return_inverse=True)
        per_face = np.zeros((len(unique), len(EMOTIONS)))
        np.add.at(per_face, inverse, scores[lo:hi])
        per_face /= np.bincount(inverse)[:, None]
        winners = np.argmax(per_face, axis=1)
        distribution[k] = np.bincount(winners, minlength=len(EMOTIONS)) / len(unique)
        mean_scores[k] = per_face.mean(axis=0)
        faces[k] = len(unique)
    return AggregateSeries(start, interval, window, distribution, mean_scores, faces)


def aggregate_for(
    annotations: Annotations,
    emotions: FaceEmotions,
    settings: AggregateSettings,
    frame_rate: Fraction,
) -> AggregateSeries:
    """:func:`aggregate` over the whole timeline of ``annotations``."""
    fragments = annotations.fragments
    start = fragments[0].start if fragments else 0
    end = fragments[-1].end if fragments else start + 1
    ts = annotations.timescale
    return aggregate(
        emotions,
        start,
        end,
        span_ticks(settings.interval_ms, ts, frame_rate),
        span_ticks(settings.window_ms, ts, frame_rate),
    )


def aggregate_document(annotations: Annotations, series: AggregateSeries) -> dict:
    """Aggregate emotion output: fragments of about 2 s of ``series`` events."""
    per_fragment = max(1, round(FRAGMENT_SECONDS * annotations.timescale / series.interval))
    events = [
        [
            {
                "windowFaceDistribution": score_dict(series.distribution[k]),
                "windowMeanScores": score_dict(series.mean_scores[k]),
            }
        ]
        for k in range(len(series.faces))
    ]
    fragments = []
    for first in range(0, len(events), per_fragment):
        chunk = events[first : first + per_fragment]
        fragments.append(
            {
                "start": series.start + first * series.interval,
                "duration": len(chunk) * series.interval,
                "interval": series.interval,
                "events": chunk,
            }
        )
    return {**_header(annotations), "fragments": fragments}
