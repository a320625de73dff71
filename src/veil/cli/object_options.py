"""``--redact``, ``--track-box``, ``--track-boxes``: what besides faces ``redact`` and
``combined`` hide (plates and text found by a model, regions a person marks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from veil.errors import VeilError
from veil.objects import Mark, MarkError, parse_mark, read_marks
from veil.pipeline.objects import REGION_CHOICES, TEXT_EVERY, TEXT_SIDE, RegionRequest


def add_object_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("plates, text and marked objects")
    group.add_argument(
        "--redact",
        metavar="LIST",
        help="what to hide, comma-separated: faces (always), plates, text (every line "
        "of text, plates included); plates and text are found by PP-OCRv4 every "
        f"{TEXT_EVERY} frames and are suggestions, not a promise: see docs/objects.md "
        "(default: faces)",
    )
    group.add_argument(
        "--text-every",
        type=int,
        default=TEXT_EVERY,
        metavar="N",
        help="search for plates and text on every N-th frame, held in between "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--text-size",
        type=int,
        default=TEXT_SIDE,
        metavar="PX",
        help="longest side of the frame the text detector sees; larger finds smaller "
        "plates, slower; 0 = full size (default: %(default)s)",
    )
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


def kinds_given(text: str | None) -> frozenset[str]:
    """``faces,plates,text`` -> the region kinds {plate, text}; faces are always hidden."""
    names = {n.strip() for n in (text or "").split(",") if n.strip()}
    unknown = sorted(names - {"faces", *REGION_CHOICES})
    if unknown:
        raise VeilError(f"--redact: unknown {', '.join(unknown)}; choose from faces, plates, text")
    return frozenset(n.removesuffix("s") for n in names - {"faces"})


def region_request(
    args: argparse.Namespace, preset_redact: tuple[str, ...] | None = None
) -> RegionRequest | None:
    """What besides faces the command hides (--redact over the preset's
    ``veil.redact``); None: faces only."""
    given = getattr(args, "redact", None)
    if given is None and preset_redact is not None:
        given = ",".join(preset_redact)
    every, side = getattr(args, "text_every", TEXT_EVERY), getattr(args, "text_size", TEXT_SIDE)
    if every < 1 or side < 0:
        raise VeilError("--text-every must be >= 1 and --text-size >= 0")
    request = RegionRequest(tuple(marks_given(args)), kinds_given(given), every, side)
    return request or None


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
