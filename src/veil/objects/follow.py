"""Follow marked boxes through a video, forward and backward, with OpenCV's MIL tracker.

opencv-python-headless ships four trackers: MIL runs without model files;
Nano, Vit, DaSiamRPN and GOTURN need ONNX/Caffe weights that no PyPI package
ships (CSRT and KCF are in the contrib build, which would replace the
project's OpenCV). MIL keeps the box's size: an object that grows or shrinks
a lot needs a second mark (a correction), as does one that something hides.

MIL draws its samples from OpenCV's random generator, which it does not let
a caller seed: one mark can give slightly different tracks from run to run.
Two things MIL cannot do are added around it. A box too small for its
features (a line of text) is tracked inside a larger context box, centred on
it. And MIL never lets its box leave the frame: pressed against the edge an
object is driving out of, it would sit on the empty background for the rest
of the video; so a box that reaches an edge while moving towards it goes on
at its last speed until it is out of the frame, and the track ends there.
Where MIL's box stops looking like the mark, the marked pixels are searched
for near its last place and MIL starts again where they are found; where
they are not, the track ends after a few frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.objects.marks import Mark, MarkError, group_marks
from veil.objects.regions import Box, RegionTrack

# Smallest side of the box MIL is given, in tracking pixels; smaller marks get context.
MIN_TRACK_SIDE = 40
# A box this share or less inside the frame has left it: the track ends.
_GONE = 0.05
# Frames over which the speed of a box is measured, and the speed towards an
# edge it touches that counts as leaving through it: this share of the box's
# size a frame (it is then out within 1/_LEAVING_SPEED frames).
_SPEED_FRAMES = 4
_LEAVING_SPEED = 0.03
# MIL stops its box a pixel or two short of the edge: this near counts as on it.
_EDGE = 3
# MIL always answers: where its box stops looking like the marked object (grey
# patches of _PATCH px correlate below _LIKE) on more than _UNLIKE_FRAMES
# frames running, the object is gone (hidden, or out of the frame past a
# box held at the edge) and the track ends; the frames counted stay covered.
_PATCH = 24
_LIKE = 0.3
_UNLIKE_FRAMES = 3
# Before that, the marked pixels are searched for near the last box; found with
# at least this correlation, MIL starts again there.
_REACQUIRE = 0.6


def inside_share(box: Box, width: int, height: int) -> float:
    x0, y0, x1, y1 = box
    area = max(x1 - x0, 1e-6) * max(y1 - y0, 1e-6)
    w = max(0.0, min(x1, width) - max(x0, 0.0))
    h = max(0.0, min(y1, height) - max(y0, 0.0))
    return w * h / area


def context_box(box: Box, width: int, height: int) -> Box:
    """``box`` grown about its centre to at least MIN_TRACK_SIDE a side, kept in the frame."""
    x0, y0, x1, y1 = box
    grow_x = max(0.0, MIN_TRACK_SIDE - (x1 - x0)) / 2
    grow_y = max(0.0, MIN_TRACK_SIDE - (y1 - y0)) / 2
    x0, x1 = max(0.0, x0 - grow_x), min(float(width), x1 + grow_x)
    y0, y1 = max(0.0, y0 - grow_y), min(float(height), y1 + grow_y)
    return x0, y0, x1, y1


def _patch(frame: NDArray[np.uint8], box: Box) -> NDArray[np.uint8]:
    """The grey pixels of ``box``, at a fixed small size for comparison."""
    height, width = frame.shape[:2]
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(width, max(x0 + 1, round(box[2]))), min(height, max(y0 + 1, round(box[3])))
    grey = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (_PATCH, _PATCH), interpolation=cv2.INTER_AREA)


def _likeness(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Normalised correlation of two patches of one size, -1..1."""
    return float(cv2.matchTemplate(a, b, cv2.TM_CCOEFF_NORMED)[0, 0])


def _moved(box: Box, dx: float, dy: float) -> Box:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def leaving_speed(path: Sequence[Box], width: int, height: int) -> tuple[float, float] | None:
    """The box's speed if it touches an edge of the frame while moving out through it."""
    if len(path) <= _SPEED_FRAMES + 1:
        return None
    # measured up to the frame before: on the edge, MIL's box has already stopped
    last, first = path[-2], path[-2 - _SPEED_FRAMES]
    dx = (last[0] + last[2] - first[0] - first[2]) / 2 / _SPEED_FRAMES
    dy = (last[1] + last[3] - first[1] - first[3]) / 2 / _SPEED_FRAMES
    x0, y0, x1, y1 = path[-1]
    least_x, least_y = _LEAVING_SPEED * (x1 - x0), _LEAVING_SPEED * (y1 - y0)
    edge = _EDGE
    out = (
        (x0 <= edge and dx < -least_x)
        or (y0 <= edge and dy < -least_y)
        or (x1 >= width - edge and dx > least_x)
        or (y1 >= height - edge and dy > least_y)
    )
    return (dx, dy) if out else None


def _tracker(frame: NDArray[np.uint8], box: Box) -> cv2.Tracker:
    tracker = cv2.TrackerMIL.create()
    x0, y0, x1, y1 = box
    tracker.init(frame, (round(x0), round(y0), round(x1 - x0), round(y1 - y0)))
    return tracker


def _grey(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def reacquire(frame: NDArray[np.uint8], marked: NDArray[np.uint8], near: Box) -> Box | None:
    """Where the marked pixels (grey) are best found within a box's size of ``near``,
    if they are found well enough (MIL, sampling at random, sometimes slips off)."""
    height, width = frame.shape[:2]
    h, w = marked.shape
    x0, y0 = max(0, int(near[0]) - w), max(0, int(near[1]) - h)
    x1, y1 = min(width, int(near[2]) + w), min(height, int(near[3]) + h)
    if x1 - x0 <= w or y1 - y0 <= h:
        return None
    scores = cv2.matchTemplate(_grey(frame[y0:y1, x0:x1]), marked, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if best < _REACQUIRE:
        return None
    return float(x0 + bx), float(y0 + by), float(x0 + bx + w), float(y0 + by + h)


def _run(frames: Sequence[NDArray[np.uint8]], start: int, stop: int, box: Box) -> dict[int, Box]:
    """Boxes on frames ``start`` (exclusive) towards ``stop`` (exclusive), in the
    frames' pixels, until the object leaves the frame or the tracker fails."""
    step = 1 if stop > start else -1
    height, width = frames[start].shape[:2]
    context = context_box(box, width, height)
    # where the object sits in its context box, kept as the context moves
    offset = (box[0] - context[0], box[1] - context[1], box[2] - context[0], box[3] - context[1])
    tracker = _tracker(frames[start], context)
    cx0, cy0 = int(context[0]), int(context[1])
    cw, ch = round(context[2] - context[0]), round(context[3] - context[1])
    marked = _grey(frames[start][cy0 : cy0 + ch, cx0 : cx0 + cw])
    path, followed = [context], {}
    template, unlike = _patch(frames[start], context), 0
    index = start + step
    while index != stop:
        ok, (x, y, w, h) = tracker.update(frames[index])
        found = (float(x), float(y), float(x + w), float(y + h))
        if _likeness(template, _patch(frames[index], found)) < _LIKE:
            again = reacquire(frames[index], marked, path[-1])
            if again is not None:
                found, tracker = again, _tracker(frames[index], again)
            unlike = 0 if again is not None else unlike + 1
        else:
            unlike = 0
        if not ok or unlike > _UNLIKE_FRAMES:
            break
        path.append(found)
        x, y = found[0], found[1]
        followed[index] = (x + offset[0], y + offset[1], x + offset[2], y + offset[3])
        index += step
        speed = leaving_speed(path, width, height)
        if speed is not None:
            # from the last box MIL moved freely, on at the speed it had
            last = followed.get(index - 2 * step, followed[index - step])
            followed |= _leave(last, speed, index - step, stop, step, width, height)
            break
    return followed


def _leave(
    box: Box, speed: tuple[float, float], index: int, stop: int, step: int, width: int, height: int
) -> dict[int, Box]:
    """The box going on at ``speed`` from frame ``index`` until it is out of the frame."""
    boxes: dict[int, Box] = {}
    while index != stop:
        box = _moved(box, *speed)
        if inside_share(box, width, height) <= _GONE:
            break
        boxes[index] = box
        index += step
    return boxes


def _scaled(box: Box, factor: float) -> Box:
    return (box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor)


def follow_object(
    frames: Sequence[NDArray[np.uint8]], scale: float, marks: Sequence[Mark]
) -> RegionTrack:
    """One object's track from its marks (frame order): each mark is followed
    back to the previous mark and on to the next one.

    ``frames`` are the video's upright frames reduced by ``scale`` (their
    pixels = full pixels * scale); marks and the result are in full pixels.
    """
    track = RegionTrack("object")
    frames_count = len(frames)
    for k, mark in enumerate(marks):
        if not 0 <= mark.frame < frames_count:
            raise MarkError(f"a box is marked on frame {mark.frame}; the video has {frames_count}")
        before = marks[k - 1].frame if k > 0 else -1
        after = marks[k + 1].frame if k + 1 < len(marks) else frames_count
        small = _scaled(mark.xyxy, scale)
        followed = {mark.frame: small}
        followed |= _run(frames, mark.frame, after, small)
        followed |= _run(frames, mark.frame, before, small)
        for index, box in followed.items():
            full = _scaled(box, 1 / scale)
            other = track.boxes.get(index)
            # two marks' runs meet between them: hide both boxes
            track.boxes[index] = full if other is None else _union(full, other)
    return track


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def follow_marks(
    frames: Sequence[NDArray[np.uint8]], scale: float, marks: Sequence[Mark]
) -> list[RegionTrack]:
    """A track per object (marks grouped by name), in the order of their first mark."""
    tracks = [follow_object(frames, scale, group) for group in group_marks(list(marks))]
    return [t for t in tracks if t.boxes]
