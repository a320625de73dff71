"""Frames of the source, upright, for previews, face crops and the timeline's pictures.

A frame is found by its time, as the renderer finds a frame's faces: the
last picture whose time maps to a tick at or before the frame's tick.
Decoding runs from the start of the video, once for any number of frames,
which is quick for review-sized clips and grows with the last frame's position.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from veil.annotations import to_ticks
from veil.errors import VeilError
from veil.media import is_image, probe, read_image, read_pictures
from veil.media.orientation import to_upright
from veil.redact import RedactionConfig, redact_frame
from veil.types import FaceBox


def pictures_at(
    path: Path, ticks: Sequence[int], timescale: int
) -> Iterator[tuple[int, NDArray[np.uint8]]]:
    """(tick, upright RGB) for each of ``ticks`` (media time, sorted), in one decoding pass."""
    if is_image(path):
        rgb = read_image(path)
        for tick in ticks:
            yield tick, rgb
        return
    rotation = probe(path).rotation
    pictures = read_pictures(path)
    wanted = list(ticks)
    try:
        last = None
        for picture in pictures:
            while wanted and to_ticks(picture.time, timescale) > wanted[0]:
                if last is None:
                    raise VeilError(f"{path.name}: no frame at tick {wanted[0]}")
                yield wanted.pop(0), to_upright(last.rgb(), rotation)
            if not wanted:
                return
            last = picture
        if last is None:
            raise VeilError(f"{path.name}: no frame at tick {wanted[0]}")
        for tick in wanted:  # at or past the last picture: it is shown until the end
            yield tick, to_upright(last.rgb(), rotation)
    finally:
        pictures.close()  # type: ignore[attr-defined]


def frame_rgb(path: Path, tick: int, timescale: int) -> NDArray[np.uint8]:
    """The upright RGB picture shown at ``tick`` (media time in ticks of ``timescale``)."""
    [(_, rgb)] = pictures_at(path, [tick], timescale)
    return rgb


def pixel_boxes(rects: Sequence[tuple[int, tuple[float, float, float, float]]], w: int, h: int):
    """Normalised (id, (x, y, width, height)) -> FaceBox in pixels of a w x h frame."""
    return [
        FaceBox(face_id, x * w, y * h, (x + bw) * w, (y + bh) * h)
        for face_id, (x, y, bw, bh) in rects
    ]


def redacted_preview(
    rgb: NDArray[np.uint8], boxes: Sequence[FaceBox], config: RedactionConfig
) -> NDArray[np.uint8]:
    return redact_frame(rgb, boxes, config)


def crop(rgb: NDArray[np.uint8], box: FaceBox, margin: float = 0.25) -> NDArray[np.uint8]:
    """The face with some room around it; at least one pixel."""
    height, width = rgb.shape[:2]
    mx, my = (box.x1 - box.x0) * margin, (box.y1 - box.y0) * margin
    x0, y0 = max(0, int(box.x0 - mx)), max(0, int(box.y0 - my))
    x1, y1 = min(width, int(np.ceil(box.x1 + mx))), min(height, int(np.ceil(box.y1 + my)))
    if x1 <= x0 or y1 <= y0:
        return np.zeros((1, 1, 3), np.uint8)
    return np.ascontiguousarray(rgb[y0:y1, x0:x1])


def jpeg(rgb: NDArray[np.uint8], quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return out.getvalue()
