"""Pictures waiting in the look-ahead, most of them parked in a temporary file.

The look-ahead holds frames until the tracker settles their faces (27 frames
at the defaults): 40 MB at 720p but 330 MB at 4K. :class:`HeldPictures` keeps
only the newest ones in memory, within a byte budget (those are the frames
the backward search reads), and parks the older ones in an unlinked temporary
file until they are released for rendering. Memory then stays bounded at any
resolution; the kernel's page cache keeps the file in memory while memory is
free and writes it out when it is not. Parking is lossless: a released picture
has exactly the pixels it was decoded with.
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

import av
import numpy as np

from veil.media.picture import VideoPicture

# Street footage scaled to 4K peaked at 0.95-0.97 GB with 32 MB (2 frames of 12 MB
# in memory) and 1.01-1.02 GB with 64 MB. 1080p keeps 10 of its 27 frames in
# memory: a 30 s clip ran 2 % slower than with all 27 there (back to back).
HELD_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class _Parked:
    """Where a parked picture's pixels are, and what rebuilds its frame around them."""

    index: int
    time: Fraction
    offset: int
    size: int
    format: str
    width: int
    height: int
    duration: int | None
    colorspace: int
    color_range: int


class HeldPictures:
    """A queue of pictures in decoding order, indexed by frame number."""

    def __init__(self, memory_bytes: int = HELD_BYTES) -> None:
        self.memory_bytes = memory_bytes
        self._pictures: deque[VideoPicture | _Parked] = deque()
        self._in_memory = 0
        self._file: BinaryIO | None = None
        self._free: list[tuple[int, int]] = []  # (offset, size) of released slots
        self._end = 0

    def __len__(self) -> int:
        return len(self._pictures)

    @property
    def first_index(self) -> int:
        return self._pictures[0].index

    @property
    def last_index(self) -> int:
        return self._pictures[-1].index

    def append(self, picture: VideoPicture) -> None:
        self._pictures.append(picture)
        self._in_memory += 1
        keep = max(2, self.memory_bytes // max(_byte_size(picture), 1))
        while self._in_memory > keep:
            # the pictures in memory are always the newest ones
            oldest = len(self._pictures) - self._in_memory
            self._pictures[oldest] = self._park(self._pictures[oldest])
            self._in_memory -= 1

    def get(self, index: int) -> VideoPicture | None:
        """The picture of frame ``index`` (a copy, if it is parked), or None if not held."""
        if not self._pictures or not self.first_index <= index <= self.last_index:
            return None
        held = self._pictures[index - self.first_index]
        return self._restore(held) if isinstance(held, _Parked) else held

    def popleft(self) -> VideoPicture:
        held = self._pictures.popleft()
        if not isinstance(held, _Parked):
            self._in_memory -= 1
            return held
        picture = self._restore(held)
        self._free.append((held.offset, held.size))
        return picture

    def close(self) -> None:
        """Drop the temporary file (it has no name, so nothing is left on disk anyway)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _park(self, picture: VideoPicture) -> _Parked:
        size = _byte_size(picture)
        offset = self._slot(size)
        if self._file is None:
            # lives across calls, closed by close(); unnamed, so never left behind
            self._file = tempfile.TemporaryFile(prefix="veil-held-")  # noqa: SIM115
        fd = self._file.fileno()
        position = offset
        for rows in picture.pixel_rows():
            os.pwrite(fd, np.ascontiguousarray(rows), position)
            position += rows.size
        frame = picture.frame
        return _Parked(
            picture.index,
            picture.time,
            offset,
            size,
            frame.format.name,
            frame.width,
            frame.height,
            frame.duration,
            frame.colorspace,
            frame.color_range,
        )

    def _slot(self, size: int) -> int:
        for i, (offset, free_size) in enumerate(self._free):
            if free_size >= size:
                del self._free[i]
                return offset
        offset, self._end = self._end, self._end + size
        return offset

    def _restore(self, parked: _Parked) -> VideoPicture:
        assert self._file is not None
        frame = av.VideoFrame(parked.width, parked.height, parked.format)
        frame.duration = parked.duration
        frame.colorspace = parked.colorspace
        frame.color_range = parked.color_range
        picture = VideoPicture(frame, parked.index, parked.time)
        position = parked.offset
        for plane in picture.planes():
            data = os.pread(self._file.fileno(), plane.size, position)
            plane[:] = np.frombuffer(data, np.uint8).reshape(plane.shape)
            position += plane.size
        return picture


def _byte_size(picture: VideoPicture) -> int:
    return sum(rows.size for rows in picture.pixel_rows())
