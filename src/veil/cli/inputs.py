"""Which files a command works on, and where each one's outputs go."""

from __future__ import annotations

import re
from pathlib import Path

from veil.errors import InputError
from veil.media import IMAGE_SUFFIXES

VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".wmv",
        ".asf",
        ".mkv",
        ".avi",
        ".webm",
        ".gif",
        ".ts",
        ".mts",
        ".m2ts",
        ".mpg",
        ".mpeg",
        ".3gp",
        ".flv",
        ".ogv",
    }
)
# veil's own outputs, skipped when a folder is scanned, so a re-run does not redact them
_OUTPUT_NAME = re.compile(r".*(_redacted|_thumb\d{6})$")


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Files as given, and the media files directly inside each given folder."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and (p.suffix.lower() in VIDEO_SUFFIXES or p.suffix.lower() in IMAGE_SUFFIXES)
                and not _OUTPUT_NAME.fullmatch(p.stem)
            )
            if not found:
                raise InputError(path, "folder contains no videos or images")
            files.extend(found)
        else:
            files.append(path)
    return files


def redacted_name(src: Path) -> str:
    """Videos become MP4; images keep their format."""
    suffix = src.suffix if src.suffix.lower() in IMAGE_SUFFIXES else ".mp4"
    return f"{src.stem}_redacted{suffix}"


def output_file(src: Path, out: Path | None, many: bool) -> Path:
    """``-o`` is a file for one input, a folder for several (or when it is one)."""
    if out is None:
        return src.parent / redacted_name(src)
    if many or out.is_dir() or not out.suffix:
        return out / redacted_name(src)
    return out


def output_dir(src: Path, out: Path | None) -> Path:
    return src.parent if out is None else out
