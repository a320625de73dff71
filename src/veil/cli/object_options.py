"""``--track-box`` / ``--track-boxes``: regions a person marks, for ``redact`` and ``combined``."""

from __future__ import annotations

import argparse
from pathlib import Path

from veil.errors import VeilError
from veil.objects import Mark, MarkError, parse_mark, read_marks


def add_object_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("marked objects")
    group.add_argument(
        "--track-box",
        action="append",
        default=[],
        metavar="[NAME@]FRAME:x,y,w,h",
        help="a box drawn on one frame (upright pixels) around something that is not a "
        "face (a screen, a document, a plate): it is followed forward and backward "
        "through the video and hidden as a rectangle; repeatable; marks with the same "
        "NAME are one object, a later one correcting the tracker from its frame on",
    )
    group.add_argument(
        "--track-boxes",
        metavar="FILE",
        type=Path,
        help="a file of such marks, one per line (# starts a comment)",
    )


def marks_given(args: argparse.Namespace) -> list[Mark]:
    """The marks of --track-box and --track-boxes; a bad one is a one-line error."""
    try:
        marks = [parse_mark(text) for text in getattr(args, "track_box", [])]
        listed = getattr(args, "track_boxes", None)
        if listed is not None:
            marks += read_marks(listed)
    except MarkError as exc:
        raise VeilError(str(exc)) from None
    return marks


def refuse_marks_in_segments(marks: list[Mark]) -> None:
    """A marked box is followed across the whole video: not across separate segments."""
    if marks:
        raise VeilError("--track-box cannot be combined with --executor (segment-parallel runs)")
