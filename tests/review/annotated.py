"""Small annotations written by hand, for the pure parts of the review."""

from __future__ import annotations

from typing import Any

from veil.annotations import Annotations
from veil.review.state import ReviewState
from veil.review.timeline import Timeline

CANDIDATE = {
    "id": 1,
    "boxes": [
        {
            "index": f,
            "start": 10 * f,
            "x": 0.4,
            "y": 0.6,
            "width": 0.05,
            "height": 0.08,
            "confidence": 0.12,
        }
        for f in (2, 3, 4)
    ],
}


def face(i: int, face_id: int, x: float = 0.1) -> dict:
    return {
        "index": i,
        "id": face_id,
        "x": x,
        "y": 0.2,
        "width": 0.1,
        "height": 0.2,
        "confidence": 0.9,
    }


def annotations(frames: int = 10, **extras: Any) -> Annotations:
    """Two faces: 1 on frames 0-5, 2 on frames 3-9; 10 ticks a frame, two fragments.

    ``extras``: veil's optional keys (candidates, ids, mergeSuggestions).
    """
    events = [
        [*([face(i, 1, 0.1 + i / 100)] if i <= 5 else []), *([face(i, 2, 0.6)] if i >= 3 else [])]
        for i in range(frames)
    ]
    return Annotations.model_validate(
        {
            "timescale": 100,
            "framerate": 10.0,
            "width": 640,
            "height": 360,
            "fragments": [
                {"start": 0, "duration": 60, "interval": 10, "events": events[:6]},
                {"start": 60, "duration": 40, "interval": 10, "events": events[6:]},
            ],
            **extras,
        }
    )


def start(**extras: Any) -> tuple[Timeline, ReviewState]:
    tl = Timeline.from_annotations(annotations(**extras))
    return tl, ReviewState.initial(tl)


def ids_on(tl: Timeline, frame: int) -> list[int]:
    return [f.id for f in tl.faces[frame]]


def timeline_of(events: list[list[dict]]) -> Timeline:
    """A timeline of these events, one a frame, 10 ticks a frame, in one fragment."""
    return Timeline.from_annotations(
        Annotations.model_validate(
            {
                "timescale": 10,
                "framerate": 1.0,
                "width": 640,
                "height": 360,
                "fragments": [
                    {"start": 0, "duration": 10 * len(events), "interval": 10, "events": events}
                ],
            }
        )
    )
