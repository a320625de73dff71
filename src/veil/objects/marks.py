"""Boxes a person draws on one frame: ``[NAME@]FRAME:x,y,w,h`` (upright pixels).

Marks with the same NAME are one object: a later mark corrects the tracker
from its frame on (each mark is followed only up to its neighbours' frames).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_MARK = re.compile(
    r"^\s*(?:(?P<name>[\w.-]+)@)?(?P<frame>\d+)\s*:\s*"
    r"(?P<x>-?[\d.]+)\s*,\s*(?P<y>-?[\d.]+)\s*,\s*(?P<w>[\d.]+)\s*,\s*(?P<h>[\d.]+)\s*$"
)


class MarkError(ValueError):
    """A mark that does not parse, with the text that was given."""


@dataclass(frozen=True)
class Mark:
    """A box drawn on frame ``frame``: top-left ``(x, y)``, size ``(w, h)``, pixels.

    ``name`` groups the marks of one object (a mark without one is its own object).
    """

    frame: int
    x: float
    y: float
    w: float
    h: float
    name: str | None = None

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        return self.x, self.y, self.x + self.w, self.y + self.h


def parse_mark(text: str) -> Mark:
    """``[NAME@]FRAME:x,y,w,h`` -> :class:`Mark`; width and height must be > 0."""
    match = _MARK.match(text)
    if match is None:
        raise MarkError(f"{text!r}: a marked box is [NAME@]FRAME:x,y,w,h, e.g. 120:40,60,200,80")
    try:
        x, y, w, h = (float(match[k]) for k in "xywh")
    except ValueError:
        raise MarkError(f"{text!r}: x,y,w,h must be numbers") from None
    if w <= 0 or h <= 0:
        raise MarkError(f"{text!r}: the box's width and height must be > 0")
    return Mark(int(match["frame"]), x, y, w, h, match["name"])


def read_marks(path: Path) -> list[Mark]:
    """One mark per line; blank lines and ``#`` comments are skipped."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MarkError(f"{path}: cannot read the marks file ({exc.__class__.__name__})") from None
    marks = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0]
        if text.strip():
            try:
                marks.append(parse_mark(text))
            except MarkError as exc:
                raise MarkError(f"{path}:{number}: {exc}") from None
    return marks


def group_marks(marks: list[Mark]) -> list[list[Mark]]:
    """The marks of each object, in frame order; unnamed marks stand alone."""
    groups: dict[str, list[Mark]] = {}
    alone: list[list[Mark]] = []
    for mark in marks:
        if mark.name is None:
            alone.append([mark])
        else:
            groups.setdefault(mark.name, []).append(mark)
    named = [sorted(g, key=lambda m: m.frame) for g in groups.values()]
    return sorted(named + alone, key=lambda g: g[0].frame)
