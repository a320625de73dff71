"""Regions that are not faces: objects a reviewer marks, licence plates and text.

``marks`` reads the boxes a person draws (``FRAME:x,y,w,h``), ``follow``
follows each through the video with OpenCV's MIL tracker, forward and
backward; the result is a :class:`Region` track per object, in upright pixels.
"""

from veil.objects.follow import follow_marks
from veil.objects.marks import Mark, MarkError, parse_mark, read_marks
from veil.objects.regions import Region, RegionTrack

__all__ = [
    "Mark",
    "MarkError",
    "Region",
    "RegionTrack",
    "follow_marks",
    "parse_mark",
    "read_marks",
]
