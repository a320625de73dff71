"""Pictures of each face ID along the timeline, so that a swap shows at a glance.

A strip is one JPEG per ID: a square tile of its face at each sample frame
(about :data:`SAMPLES` spread over the video) where it has a box, left to
right. Tiles are cut once per frame and box and cached under the review's
folder; a split or a merge changes IDs, not boxes, so the strips after one
cost no decoding.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from veil.annotations import Face
from veil.atomic import write_atomic
from veil.review import frames

TILE = 48  # px, square
SAMPLES = 40  # sample frames over the whole video


def sample_frames(count: int) -> range:
    """Every n-th frame, n chosen for about :data:`SAMPLES` of them."""
    return range(0, count, max(1, math.ceil(count / SAMPLES)))


def plan(boxes: Sequence[tuple[int, Face]], frame_count: int) -> list[tuple[int, Face]]:
    """The (frame, box) of each tile of an ID with these boxes: those on sample frames,
    or its middle box if it has none there (a short track still gets one picture).
    """
    step = sample_frames(frame_count).step
    chosen = [(i, f) for i, f in boxes if i % step == 0]
    return chosen or boxes[len(boxes) // 2 : len(boxes) // 2 + 1]


def _key(frame: int, face: Face) -> str:
    rect = f"{face.x:.5f},{face.y:.5f},{face.width:.5f},{face.height:.5f}"
    return f"{frame}-{hashlib.sha256(rect.encode()).hexdigest()[:12]}"


def version(tiles: Sequence[tuple[int, Face]]) -> str:
    """Names the strip's pictures: it changes when they do."""
    return hashlib.sha256("|".join(_key(i, f) for i, f in tiles).encode()).hexdigest()[:12]


def _tile(rgb: NDArray[np.uint8], face: Face) -> bytes:
    height, width = rgb.shape[:2]
    [box] = frames.pixel_boxes(
        [(face.id, (face.x, face.y, face.width, face.height))], width, height
    )
    # a square around the box, so faces keep their shape
    side = max(box.x1 - box.x0, box.y1 - box.y0)
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    square = type(box)(box.face_id, cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    picture = Image.fromarray(frames.crop(rgb, square, margin=0.15))
    out = io.BytesIO()
    picture.resize((TILE, TILE), Image.Resampling.BILINEAR).save(out, "JPEG", quality=85)
    return out.getvalue()


class TileCache:
    """Face tiles on disk, cut from decoded frames on demand."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, frame: int, face: Face) -> Path:
        return self.folder / f"{_key(frame, face)}.jpg"

    def missing(self, wanted: Iterable[tuple[int, Face]]) -> list[tuple[int, Face]]:
        return [(i, f) for i, f in wanted if not self.path(i, f).is_file()]

    def fill(
        self,
        wanted: Iterable[tuple[int, Face]],
        decode: Callable[[list[int]], Iterator[tuple[int, NDArray[np.uint8]]]],
    ) -> None:
        """Cut every missing tile; ``decode(frames)`` yields (frame, RGB) in one pass."""
        by_frame: dict[int, list[Face]] = {}
        for frame, face in self.missing(wanted):
            by_frame.setdefault(frame, []).append(face)
        if not by_frame:
            return
        for frame, rgb in decode(sorted(by_frame)):
            for face in by_frame[frame]:
                write_atomic(self.path(frame, face), _tile(rgb, face))

    def strip(self, tiles: Sequence[tuple[int, Face]]) -> bytes:
        """The tiles side by side, one JPEG (every tile must be in the cache)."""
        picture = Image.new("RGB", (TILE * max(1, len(tiles)), TILE), (40, 40, 40))
        for k, (frame, face) in enumerate(tiles):
            with Image.open(self.path(frame, face)) as tile:
                picture.paste(tile, (k * TILE, 0))
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=85)
        return out.getvalue()
