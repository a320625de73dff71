"""A decoded video frame that the pipeline can look at and change without PyAV.

Pictures stay in the codec's planar YUV: detection asks for a small RGB copy,
redaction writes into the planes in place, and a frame without faces goes to
the encoder untouched, with no colour conversion at all.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
from numpy.typing import NDArray

# Planar 8-bit formats whose planes redaction can edit directly, with each
# plane's black and white levels (limited range for yuv, full for yuvj).
_PLANE_LEVELS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "yuv420p": ((16, 128, 128), (235, 128, 128)),
    "yuv422p": ((16, 128, 128), (235, 128, 128)),
    "yuv444p": ((16, 128, 128), (235, 128, 128)),
    "yuvj420p": ((0, 128, 128), (255, 128, 128)),
    "yuvj422p": ((0, 128, 128), (255, 128, 128)),
    "yuvj444p": ((0, 128, 128), (255, 128, 128)),
}
WORKING_FORMAT = "yuv420p"


class VideoPicture:
    """Frame ``index`` of a video, shown at ``time`` seconds (exact)."""

    def __init__(self, frame: av.VideoFrame, index: int, time: Fraction) -> None:
        if frame.format.name not in _PLANE_LEVELS:
            # palettes (GIF), RGB, 10-bit...: convert once to a format we can edit
            frame = frame.reformat(format=WORKING_FORMAT)
        self.frame = frame
        self.index = index
        self.time = time

    @property
    def width(self) -> int:
        return self.frame.width

    @property
    def height(self) -> int:
        return self.frame.height

    @property
    def levels(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(black, white) value of each plane."""
        return _PLANE_LEVELS[self.frame.format.name]

    def rgb(self, max_side: int = 0) -> NDArray[np.uint8]:
        """An RGB copy, scaled down to fit ``max_side`` (0 = full size)."""
        width, height = self.width, self.height
        scale = min(1.0, max_side / max(width, height)) if max_side else 1.0
        if scale == 1.0:
            return self.frame.to_ndarray(format="rgb24")
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = self.frame.reformat(
            width=size[0], height=size[1], format="rgb24", interpolation="AREA"
        )
        return small.to_ndarray()

    def rgb_region(self, x0: int, y0: int, x1: int, y1: int) -> NDArray[np.uint8]:
        """An RGB copy of the pixels ``[y0:y1, x0:x1]``, converting only those.

        The searches near known faces look at small windows of big frames:
        converting the whole frame for each of them cost more time and memory
        than the search itself. The region is widened to whole chroma samples
        for the conversion and cut back after it.
        """
        planes = self.pixel_rows()
        step_x = round(self.width / planes[1].shape[1])
        step_y = round(self.height / planes[1].shape[0])
        wx0, wy0 = x0 - x0 % step_x, y0 - y0 % step_y
        wx1 = min(-(-x1 // step_x) * step_x, self.width)
        wy1 = min(-(-y1 // step_y) * step_y, self.height)
        region = av.VideoFrame(wx1 - wx0, wy1 - wy0, self.frame.format.name)
        region.colorspace, region.color_range = self.frame.colorspace, self.frame.color_range
        target = VideoPicture(region, self.index, self.time).planes()
        for k, (source, into) in enumerate(zip(planes, target, strict=True)):
            top, left = (wy0, wx0) if k == 0 else (wy0 // step_y, wx0 // step_x)
            into[:] = source[top : top + into.shape[0], left : left + into.shape[1]]
        rgb = region.to_ndarray(format="rgb24")
        return rgb[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0]

    def planes(self) -> list[NDArray[np.uint8]]:
        """Writable views of the Y, U and V planes (the frame is made private first)."""
        # the decoder may still reference this frame's buffers: copy before writing
        self.frame.make_writable()
        return self.pixel_rows()

    def pixel_rows(self) -> list[NDArray[np.uint8]]:
        """Views of each plane's pixels, without the padding at the end of each row."""
        views = []
        for plane in self.frame.planes:
            buffer = np.asarray(memoryview(plane))
            views.append(buffer.reshape(plane.height, plane.line_size)[:, : plane.width])
        return views
