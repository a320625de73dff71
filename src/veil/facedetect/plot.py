"""A picture of emotions over time, drawn with OpenCV (no plotting library needed)."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.emotion import EMOTIONS
from veil.facedetect.output import AggregateSeries

# RGB, one per emotion, told apart in colour and in greyscale print
COLOURS = {
    "neutral": (120, 120, 120),
    "happiness": (230, 160, 0),
    "surprise": (0, 170, 200),
    "sadness": (40, 80, 220),
    "anger": (220, 30, 30),
    "disgust": (60, 160, 60),
    "fear": (150, 60, 190),
    "contempt": (140, 90, 40),
}
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 60, 150, 40, 50


def _text(img: NDArray[np.uint8], text: str, xy: tuple[int, int], scale: float = 0.45) -> None:
    cv2.putText(img, text, xy, _FONT, scale, (30, 30, 30), 1, cv2.LINE_AA)


def _nice_step(span: float, target: int = 8) -> float:
    raw = max(span / target, 1e-9)
    power = 10 ** np.floor(np.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def emotion_plot(
    series: AggregateSeries, timescale: int, title: str, size: tuple[int, int] = (1000, 420)
) -> NDArray[np.uint8]:
    """RGB image: mean score of each emotion per aggregate event against time.

    Grey bands mark events with no face. Contempt is not drawn: the model has
    no such class, so its score is always 0.
    """
    width, height = size
    img = np.full((height, width, 3), 255, np.uint8)
    x0, x1 = _MARGIN_LEFT, width - _MARGIN_RIGHT
    y0, y1 = _MARGIN_TOP, height - _MARGIN_BOTTOM
    count = len(series.faces)
    t_end = (series.start + count * series.interval) / timescale
    t_start = series.start / timescale
    span = max(t_end - t_start, 1e-6)

    def px(t: float) -> int:
        return round(x0 + (t - t_start) / span * (x1 - x0))

    def py(v: float) -> int:
        return round(y1 - v * (y1 - y0))

    for k in np.flatnonzero(series.faces == 0).tolist():
        a = px((series.start + k * series.interval) / timescale)
        b = px(series.event_end(k) / timescale)
        cv2.rectangle(img, (a, y0), (b, y1), (235, 235, 235), -1)
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        cv2.line(img, (x0, py(v)), (x1, py(v)), (215, 215, 215), 1)
        _text(img, f"{v:.2f}", (x0 - 45, py(v) + 5))
    step = _nice_step(span)
    t = np.ceil(t_start / step) * step
    while t <= t_end + 1e-9:
        cv2.line(img, (px(t), y1), (px(t), y1 + 5), (60, 60, 60), 1)
        _text(img, f"{t:g}", (px(t) - 10, y1 + 20))
        t += step
    cv2.rectangle(img, (x0, y0), (x1, y1), (60, 60, 60), 1)
    _text(img, "seconds", ((x0 + x1) // 2 - 25, height - 10))
    _text(img, title, (x0, 25), 0.55)

    # each event's value drawn at the middle of the event
    mids = [(series.start + (k + 0.5) * series.interval) / timescale for k in range(count)]
    for i, name in enumerate(EMOTIONS):
        if name == "contempt":
            continue
        points = np.array(
            [(px(t), py(float(v))) for t, v in zip(mids, series.mean_scores[:, i], strict=True)],
            np.int32,
        )
        cv2.polylines(img, [points], False, COLOURS[name], 2, cv2.LINE_AA)
    for row, name in enumerate(n for n in EMOTIONS if n != "contempt"):
        y = y0 + 10 + row * 22
        cv2.line(img, (x1 + 15, y), (x1 + 40, y), COLOURS[name], 3)
        _text(img, name, (x1 + 47, y + 5))
    for row, line in enumerate(("mean score in", "each window;", "grey: no face")):
        _text(img, line, (x1 + 15, y1 - 48 + row * 18), 0.4)
    return img
