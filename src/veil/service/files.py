"""Files that enter the service: safe names, size limits, and 'is this media?'."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from veil.annotations import read_annotations
from veil.errors import VeilError
from veil.media import is_image, probe, read_image
from veil.names import (
    MEDIA_SUFFIXES,
    annotations_name,
    is_media_suffix,
    is_output_name,
    redacted_name,
    report_name,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class TooLarge(VeilError):
    """More bytes than the size limit."""


def safe_name(name: str, default: str = "upload") -> str:
    """A file name with no path in it: the last component, ASCII letters, digits, ``._-``.

    ``../../etc/passwd`` becomes ``passwd``, ``C:\\x\\..\\a b.mp4`` becomes ``a_b.mp4``;
    names are cut to 120 characters, keeping the suffix.
    """
    last = re.split(r"[\\/]", name)[-1]
    ascii_name = unicodedata.normalize("NFKD", last).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._")
    if not cleaned:
        return default
    stem, dot, suffix = cleaned.rpartition(".")
    if dot and len(suffix) <= 8:
        return f"{stem[: 120 - len(suffix)]}.{suffix}" if stem else f"{default}.{suffix}"
    return cleaned[:120]


def is_media_name(name: str) -> bool:
    """A video or image an input may be: not hidden, not partial, not one of veil's outputs."""
    path = Path(name)
    if path.name.startswith(".") or ".partial-" in path.name:
        return False
    return is_media_suffix(path) and not is_output_name(path)


def check_media(path: Path) -> str:
    """``"video"`` or ``"image"`` if veil can read the file, else a VeilError saying why."""
    if not is_media_suffix(path):
        raise VeilError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; "
            f"expected a video or image ({', '.join(sorted(MEDIA_SUFFIXES))})"
        )
    if is_image(path):
        read_image(path)
        return "image"
    info = probe(path)
    if info.width <= 0 or info.height <= 0:
        raise VeilError(f"{path.name}: no picture in this file")
    return "video"


def check_annotations(path: Path) -> str:
    read_annotations(path)
    return "annotations"


def frame_total(path: Path, passes: int) -> int | None:
    if is_image(path):
        return None
    count = probe(path).frame_count
    return count * passes or None


def output_names(stem: str, suffix: str) -> dict[str, str]:
    """The names a job writes, by role (thumbnails are found by pattern)."""
    return {
        "redacted": redacted_name(stem, suffix),
        "annotations": annotations_name(stem),
        "report": report_name(stem),
    }
