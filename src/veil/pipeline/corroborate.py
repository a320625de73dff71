"""A second opinion before a doubtful detection starts a face of its own.

One model's false faces are rarely the other's: on the shared real clips
RetinaFace took a car seen from above (0.88), a bottle (0.77), a signer's
torso (0.72) and hands (0.5-0.7) for faces, and CenterFace scored each of
them under 0.2 where RetinaFace scored the real faces beside them 1.0 and
CenterFace about 0.9. So a detection that would start a new track without
the evidence of a sure face, where a face is least likely (a box larger than
a face usually is, under :data:`LARGE_SURE_SCORE`; one on a body below a face
already tracked, under :data:`SURE_SCORE`), is shown to the other model, in a
window around it enlarged as the searches near known faces enlarge it
(:func:`veil.pipeline.search.search_window`), and starts a track only if
that model finds a face there too. A detection that continues a face
already tracked is never asked about: the doubt is only whether a face is
there at all, and the track says it is.

Only the window is run, only for doubtful new faces: a clip whose faces are
tracked costs nothing more.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from veil.detect import FaceDetector
from veil.geometry import box_iou
from veil.pipeline.search import SearchFrame, search_window
from veil.types import Detections

# A new face scoring this much needs no second opinion (the real faces of the
# shared clips scored 0.99-1.0; the false ones 0.88 at most).
SURE_SCORE = 0.9
# A box whose longer side exceeds this share of the frame's shorter side
# needs LARGE_SURE_SCORE instead: a face that fills the frame is seen clearly
# (0.99), while a torso or a car that size scored 0.64-0.92.
LARGE_FRACTION = 0.4
LARGE_SURE_SCORE = 0.97
# Only large boxes and boxes on a body below a tracked face (see _on_a_body)
# are asked about. Not every doubtful new face: the other model misses many
# of the soft, small and turned faces that the first finds weakly (make
# eval-real, 25 photos: asking about every new face under SURE_SCORE took the
# face-frames leaked from 3.8 to 23.5 %; also every box of a fifth of the
# frame's shorter side or more, from 3.8 to 7.2 %).
# Below a face: within a face width either side of it and four face heights
# under it, at least half its size (a hand, a torso, a print on a shirt) and
# at least _BODY_MIN_PX: the small faces of a crowd's next row are left alone.
_BODY_HEIGHTS = 4.0
_BODY_MIN_SIZE = 0.5
_BODY_MIN_PX = 32
# The other model agrees where it finds a box overlapping this much, at least this sure.
AGREE_IOU = 0.3
AGREE_SCORE = 0.3


def _sides(xyxy: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.maximum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1])


def _on_a_body(detections: Detections, tracked: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Which detections lie where a tracked face's hands or body would be."""
    if len(detections) == 0 or len(tracked) == 0:
        return np.zeros(len(detections), bool)
    xyxy = detections.xyxy
    cx, cy = (xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2
    width, height = tracked[:, 2] - tracked[:, 0], tracked[:, 3] - tracked[:, 1]
    beside = (cx[:, None] >= tracked[None, :, 0] - width) & (
        cx[:, None] <= tracked[None, :, 2] + width
    )
    below = (cy[:, None] > tracked[None, :, 3]) & (
        cy[:, None] <= tracked[None, :, 3] + _BODY_HEIGHTS * height
    )
    sides = _sides(xyxy)[:, None]
    big = (sides >= _BODY_MIN_SIZE * _sides(tracked)[None, :]) & (sides >= _BODY_MIN_PX)
    return (beside & below & big).any(axis=1)


def doubtful(
    detections: Detections,
    frame_width: int,
    frame_height: int,
    tracked: NDArray[np.float32] | None = None,
) -> NDArray[np.bool_]:
    """Which detections are not sure enough to start a face on their own:
    large boxes under :data:`LARGE_SURE_SCORE`, and boxes on a body below a
    ``tracked`` face under :data:`SURE_SCORE`."""
    large = _sides(detections.xyxy) > LARGE_FRACTION * min(frame_width, frame_height)
    body = np.zeros(len(detections), bool) if tracked is None else _on_a_body(detections, tracked)
    return (large & (detections.score < LARGE_SURE_SCORE)) | (
        body & (detections.score < SURE_SCORE)
    )


def continuing(detections: Detections, tracked: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Which detections lie on a face already tracked (``tracked``: predicted boxes):
    their centre inside its box. A hand or a print just below a face is not on it."""
    if len(detections) == 0 or len(tracked) == 0:
        return np.zeros(len(detections), bool)
    centres = (detections.xyxy[:, :2] + detections.xyxy[:, 2:]) / 2
    inside = (centres[:, None] >= tracked[None, :, :2]) & (centres[:, None] <= tracked[None, :, 2:])
    return inside.all(axis=2).any(axis=1)


def agreement(
    second: FaceDetector, frame: SearchFrame, box: tuple[float, float, float, float]
) -> float:
    """The best score ``second`` gives a face overlapping ``box`` in ``frame`` (0: none)."""
    crop, x0, y0, scale = search_window(frame, box)
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return 0.0
    found = second.detect(np.ascontiguousarray(crop), threshold=0.05)
    if len(found) == 0:
        return 0.0
    boxes = found.xyxy / scale + np.array([x0, y0, x0, y0], np.float32)
    overlap = box_iou(np.array([box], np.float32), boxes)[0]
    agreeing = found.score[overlap >= AGREE_IOU]
    return float(agreeing.max()) if len(agreeing) else 0.0


def corroborated(
    detections: Detections,
    tracked: NDArray[np.float32],
    frame: SearchFrame | None,
    second: Callable[[], FaceDetector],
) -> Detections:
    """``detections`` less the doubtful new faces that ``second`` does not see.

    ``tracked``: the live tracks' predicted boxes on this frame; ``frame``:
    the full-resolution frame the detections' boxes are in (None: nothing is
    asked and every detection stays); ``second()``: the other model (called
    only when there is something to ask it).
    """
    if frame is None or len(detections) == 0:
        return detections
    ask = doubtful(detections, frame.width, frame.height, tracked)
    ask &= ~continuing(detections, tracked)
    keep = ~ask
    for k in np.flatnonzero(ask).tolist():
        box = tuple(float(v) for v in detections.xyxy[k])
        keep[k] = agreement(second(), frame, box) >= AGREE_SCORE  # type: ignore[arg-type]
    return detections if keep.all() else detections[keep]
