"""Files that enter the service: safe names, size limits, and 'is this media?'."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from veil.annotations import read_annotations
from veil.errors import VeilError
from veil.media import IMAGE_SUFFIXES, is_image, probe, read_image

VIDEO_SUFFIXES = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".wmv", ".asf", ".mkv", ".avi", ".webm", ".gif",
        ".ts", ".mts", ".m2ts", ".mpg", ".mpeg", ".3gp", ".flv", ".ogv",
    }
)  # fmt: skip
MEDIA_SUFFIXES = VIDEO_SUFFIXES | frozenset(IMAGE_SUFFIXES)
# veil's own outputs and partial files: never inputs
_OUTPUT_NAME = re.compile(r".*(_redacted|_thumb\d{6}|_annotations|_report)$")
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
    path = Path(name)
    if path.name.startswith(".") or ".partial-" in path.name:
        return False
    return path.suffix.lower() in MEDIA_SUFFIXES and not _OUTPUT_NAME.fullmatch(path.stem)


def check_media(path: Path) -> str:
    """``"video"`` or ``"image"`` if veil can read the file, else a VeilError saying why."""
    if path.suffix.lower() not in MEDIA_SUFFIXES:
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


def output_names(mode: str, stem: str, suffix: str) -> dict[str, str]:
    """The names a job writes, by role (thumbnails are found by pattern)."""
    out_suffix = suffix if suffix.lower() in IMAGE_SUFFIXES else ".mp4"
    return {
        "redacted": f"{stem}_redacted{out_suffix}",
        "annotations": f"{stem}_annotations.json",
        "report": f"{stem}_report.json",
    }


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {
        ".mp4": "video/mp4",
        ".json": "application/json",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".png": "image/png",
        ".webp": "image/webp",
    }.get(suffix, "application/octet-stream")


def fsync_close(f) -> None:
    f.flush()
    os.fsync(f.fileno())
    f.close()
