"""What the pipeline's tests share."""

from __future__ import annotations

import numpy as np


class ArrayFrame:
    """An RGB array as the searches see a held frame."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.array = rgb
        self.height, self.width = rgb.shape[:2]

    def rgb(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        return self.array[y0:y1, x0:x1]
