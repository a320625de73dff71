"""The searches convert only a window of a frame: the same pixels as converting it all."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from skimage.data import astronaut

from veil.media import VideoPicture
from veil.media.orientation import UprightPicture, to_upright


@pytest.mark.parametrize("fmt", ["yuv420p", "yuvj420p", "yuv444p"])
@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_a_window_of_an_upright_picture_equals_the_same_window_of_the_whole(fmt, rotation):
    rgb = np.ascontiguousarray(astronaut()[:360, :480])
    picture = VideoPicture(
        av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=fmt), 0, Fraction(0)
    )
    whole = to_upright(picture.rgb(), rotation)
    upright = UprightPicture(picture, rotation)
    assert (upright.height, upright.width) == whole.shape[:2]
    # odd corners: the conversion widens to whole chroma samples and cuts back
    for x0, y0, x1, y1 in [
        (0, 0, 50, 40),
        (101, 57, 233, 199),
        (7, 3, upright.width, upright.height),
    ]:
        assert np.array_equal(upright.rgb(x0, y0, x1, y1), whole[y0:y1, x0:x1])
