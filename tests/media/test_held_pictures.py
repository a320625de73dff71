"""The look-ahead parks pictures on disk beyond its memory budget, losslessly."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from veil.media import VideoPicture
from veil.media.held import HeldPictures


def _picture(index: int, fmt: str = "yuv420p") -> VideoPicture:
    rng = np.random.default_rng(index)
    frame = av.VideoFrame(66, 38, fmt)  # odd-sized rows: planes carry row padding
    frame.duration = 512
    frame.color_range = 2
    picture = VideoPicture(frame, index, Fraction(index, 25))
    for plane in picture.planes():
        plane[:] = rng.integers(0, 256, plane.shape, np.uint8)
    return picture


def _pixels(picture: VideoPicture) -> list[np.ndarray]:
    return [rows.copy() for rows in picture.pixel_rows()]


def _same(picture: VideoPicture, pixels: list[np.ndarray]) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(_pixels(picture), pixels, strict=True))


def test_parked_pictures_come_back_with_the_same_pixels_and_timing():
    originals = {i: _pixels(_picture(i)) for i in range(12)}
    held = HeldPictures(memory_bytes=0)  # all but the two newest are parked
    for i in range(12):
        held.append(_picture(i))
    assert len(held) == 12 and (held.first_index, held.last_index) == (0, 11)
    # the backward search reads a parked frame without taking it out
    looked_at = held.get(5)
    assert looked_at is not None and held.get(12) is None
    assert _same(looked_at, originals[5])
    for i in range(12):
        picture = held.popleft()
        assert (picture.index, picture.time) == (i, Fraction(i, 25))
        assert picture.frame.duration == 512 and picture.frame.color_range == 2
        assert _same(picture, originals[i])
    assert len(held) == 0
    held.close()


def test_full_range_and_444_pictures_keep_their_format():
    held = HeldPictures(memory_bytes=0)
    pictures = [_picture(0, "yuvj444p"), _picture(1, "yuv422p"), _picture(2), _picture(3)]
    expected = [(_pixels(p), p.frame.format.name) for p in pictures]
    for picture in pictures:
        held.append(picture)
    for pixels, fmt in expected:
        picture = held.popleft()
        assert picture.frame.format.name == fmt
        assert _same(picture, pixels)


def test_a_budget_keeps_the_newest_pictures_in_memory():
    first = _picture(0)
    frame_bytes = sum(rows.size for rows in first.pixel_rows())
    held = HeldPictures(memory_bytes=3 * frame_bytes)
    pictures = [first, *(_picture(i) for i in range(1, 8))]
    for picture in pictures:
        held.append(picture)
    # the same objects for the three newest, copies from the file for the others
    assert [held.get(i) is pictures[i] for i in range(8)] == [False] * 5 + [True] * 3
