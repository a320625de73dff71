"""Files that enter the service: safe names, size limits, and 'is this media?'."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from veil.annotations import read_annotations
from veil.errors import VeilError
from veil.media import TooManyPixels, image_size, is_image, probe, read_image
from veil.names import (
    MEDIA_SUFFIXES,
    annotations_name,
    is_media_suffix,
    is_output_name,
    redacted_name,
    report_name,
)
from veil.settings import BlurType

# room for the longest name veil derives from a stem ("_annotations.json") in 255 bytes
NAME_BYTES = 200
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~-])/(?:[^\s'\"/]+/)+([^\s'\"/]+)")


class TooLarge(VeilError):
    """More bytes than the size limit."""


def _kept(ch: str) -> bool:
    return ch in "._-" or unicodedata.category(ch)[0] in "LMN"


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, on a character boundary."""
    return text.encode()[:limit].decode(errors="ignore")


def safe_name(name: str, default: str = "upload") -> str:
    """A file name with no path in it: letters and digits of any script, ``._-``.

    ``../../etc/passwd`` becomes ``passwd``, ``C:\\x\\..\\a b.mp4`` becomes ``a_b.mp4``,
    ``Überwachung 3.mp4`` becomes ``Überwachung_3.mp4``; names are cut to 200 bytes
    (UTF-8), keeping the suffix.
    """
    last = unicodedata.normalize("NFC", re.split(r"[\\/]", name)[-1])
    cleaned = re.sub(r"_+", "_", "".join(ch if _kept(ch) else "_" for ch in last)).strip("._")
    if not cleaned:
        return default
    stem, dot, suffix = cleaned.rpartition(".")
    if dot and len(suffix) <= 8 and suffix.isascii():
        stem = _cut(stem, NAME_BYTES - len(suffix) - 1).rstrip("._")
        return f"{stem or default}.{suffix}"
    return _cut(cleaned, NAME_BYTES)


def public_message(text: str) -> str:
    """A message fit for a client: every server path in it cut to its file name."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1), text)


def is_media_name(name: str) -> bool:
    """A video or image an input may be: not hidden, not partial, not one of veil's outputs."""
    path = Path(name)
    if path.name.startswith(".") or ".partial-" in path.name:
        return False
    return is_media_suffix(path) and not is_output_name(path)


def check_media(path: Path, max_pixels: int) -> str:
    """``"video"`` or ``"image"`` if veil can read the file, else a VeilError saying why.

    Pictures over ``max_pixels`` (an image, or a video's frame) are refused from
    their header, before a pixel is decoded.
    """
    if not is_media_suffix(path):
        raise VeilError(
            f"{path.name}: unsupported file type {path.suffix or '(none)'!r}; "
            f"expected a video or image ({', '.join(sorted(MEDIA_SUFFIXES))})"
        )
    if is_image(path):
        try:
            width, height = image_size(path)
        except TooManyPixels as exc:
            raise TooLarge(f"{path.name}: {exc.problem}") from exc
        _check_pixels(path.name, width, height, max_pixels)
        read_image(path)
        return "image"
    info = probe(path)
    if info.width <= 0 or info.height <= 0:
        raise VeilError(f"{path.name}: no picture in this file")
    _check_pixels(path.name, info.width, info.height, max_pixels)
    return "video"


def _check_pixels(name: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise TooLarge(
            f"{name}: {width}x{height} is {width * height:,} pixels a picture; "
            f"the limit is {max_pixels:,}"
        )


def check_annotations(path: Path) -> str:
    read_annotations(path)
    return "annotations"


def frame_total(path: Path, passes: int) -> int | None:
    if is_image(path):
        return None
    count = probe(path).frame_count
    return count * passes or None


def output_names(stem: str, suffix: str, blur: BlurType) -> dict[str, str]:
    """The names a job writes, by role (thumbnails are found by pattern)."""
    return {
        "redacted": redacted_name(stem, suffix, outline_only=blur == BlurType.BOX),
        "annotations": annotations_name(stem),
        "report": report_name(stem),
    }
