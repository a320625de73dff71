"""Which files a command works on, and where each one's outputs go."""

from __future__ import annotations

from pathlib import Path

from veil.errors import InputError
from veil.names import is_media_suffix, is_output_name, redacted_name


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Files as given, and the media files directly inside each given folder."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and is_media_suffix(p) and not is_output_name(p)
            )
            if not found:
                raise InputError(path, "folder contains no videos or images")
            files.extend(found)
        else:
            files.append(path)
    return files


def output_file(src: Path, out: Path | None, many: bool, outline_only: bool = False) -> Path:
    """``-o`` is a file for one input, a folder for several (or when it is one).

    ``outline_only`` (``--blur box``): named ``<stem>_review``, as it hides nothing.
    """
    name = redacted_name(src.stem, src.suffix, outline_only)
    if out is None:
        return src.parent / name
    if many or out.is_dir() or not out.suffix:
        return out / name
    return out


def output_dir(src: Path, out: Path | None) -> Path:
    return src.parent if out is None else out
