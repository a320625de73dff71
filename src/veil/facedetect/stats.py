"""Summary statistics of a Face Detector run: who is on screen, for how long; CSV export."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from veil.annotations import Annotations
from veil.emotion import EMOTIONS
from veil.facedetect.emotions import FaceEmotions
from veil.facedetect.output import dominant

_SECONDS_DECIMALS = 3


@dataclass(frozen=True, eq=False)
class FaceSummary:
    """One face ID over the whole video.

    ``screen_seconds`` adds up the time of every frame the face is in;
    ``mean_scores`` (Azure's order) is None when emotions were not computed.
    """

    face_id: int
    frames: int
    first_seconds: float
    last_seconds: float
    screen_seconds: float
    mean_scores: NDArray[np.float64] | None = None

    @property
    def dominant_emotion(self) -> str | None:
        return None if self.mean_scores is None else dominant(self.mean_scores)

    def to_json(self) -> dict:
        out: dict = {
            "id": self.face_id,
            "frames": self.frames,
            "first_seconds": self.first_seconds,
            "last_seconds": self.last_seconds,
            "screen_seconds": self.screen_seconds,
        }
        if self.mean_scores is not None:
            out["dominant_emotion"] = self.dominant_emotion
            out["mean_scores"] = {
                n: round(float(v), 6) for n, v in zip(EMOTIONS, self.mean_scores, strict=True)
            }
        return out


@dataclass(frozen=True, eq=False)
class Summary:
    """Faces counted (distinct IDs), the most faces in one frame, and each face's figures."""

    faces: int
    max_faces_per_frame: int
    seconds: float
    per_face: tuple[FaceSummary, ...]

    def to_json(self) -> dict:
        return {
            "faces": self.faces,
            "max_faces_per_frame": self.max_faces_per_frame,
            "seconds": self.seconds,
            "per_face": [f.to_json() for f in self.per_face],
        }


def summarize(annotations: Annotations, emotions: FaceEmotions | None = None) -> Summary:
    """Counts and screen time per face ID from the annotations (one event per frame)."""
    ts = annotations.timescale
    frames: defaultdict[int, int] = defaultdict(int)
    screen: defaultdict[int, int] = defaultdict(int)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    most = 0
    for fragment in annotations.fragments:
        if fragment.events is None or fragment.interval is None:
            continue
        for k, event in enumerate(fragment.events):
            tick = fragment.start + k * fragment.interval - annotations.offset
            most = max(most, len(event))
            for face in event:
                frames[face.id] += 1
                screen[face.id] += fragment.interval
                first.setdefault(face.id, tick)
                last[face.id] = tick
    means: dict[int, NDArray[np.float64]] = {}
    if emotions is not None:
        for face_id in np.unique(emotions.face_id).tolist():
            means[face_id] = emotions.scores[emotions.face_id == face_id].mean(axis=0)
    end = annotations.fragments[-1].end if annotations.fragments else 0

    def seconds(ticks: int) -> float:
        return round(ticks / ts, _SECONDS_DECIMALS)

    per_face = tuple(
        FaceSummary(
            face_id=face_id,
            frames=frames[face_id],
            first_seconds=seconds(first[face_id]),
            last_seconds=seconds(last[face_id]),
            screen_seconds=seconds(screen[face_id]),
            mean_scores=means.get(face_id) if emotions is not None else None,
        )
        for face_id in sorted(frames)
    )
    return Summary(len(per_face), most, seconds(end), per_face)


CSV_COLUMNS = (
    "input",
    "id",
    "frames",
    "first_seconds",
    "last_seconds",
    "screen_seconds",
    "dominant_emotion",
    *EMOTIONS,
)


def csv_text(rows: list[tuple[str, Summary]]) -> str:
    """One CSV row per face ID of each (input name, summary); emotion columns empty without."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name, summary in rows:
        for face in summary.per_face:
            scores = (
                [""] * len(EMOTIONS)
                if face.mean_scores is None
                else [f"{v:.6f}" for v in face.mean_scores]
            )
            writer.writerow(
                [
                    name,
                    face.face_id,
                    face.frames,
                    f"{face.first_seconds:.3f}",
                    f"{face.last_seconds:.3f}",
                    f"{face.screen_seconds:.3f}",
                    face.dominant_emotion or "",
                    *scores,
                ]
            )
    return buffer.getvalue()
