"""veil's file names: the suffixes it reads, and the names of what it writes beside an input.

Every layer (pipeline, CLI, service, review app) names files through here, so
a name is spelt once and a folder scan can tell veil's own outputs from inputs.
Nothing here touches the file system.
"""

from __future__ import annotations

import re
from pathlib import PurePath

# suffix -> the Pillow format images are read and written as
IMAGE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
IMAGE_SUFFIXES = frozenset(IMAGE_FORMATS)
VIDEO_SUFFIXES = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".wmv", ".asf", ".mkv", ".avi", ".webm", ".gif",
        ".ts", ".mts", ".m2ts", ".mpg", ".mpeg", ".3gp", ".flv", ".ogv",
    }
)  # fmt: skip
MEDIA_SUFFIXES = VIDEO_SUFFIXES | IMAGE_SUFFIXES
# redacted videos are H.264 MP4 whatever they came in; images keep their format
VIDEO_OUTPUT_SUFFIX = ".mp4"

# the stems of veil's own media outputs: a folder scan skips them, so a re-run
# does not redact its own results
_OUTPUT_STEM = re.compile(r".*(_redacted|_review|_thumb\d{6})$")
_THUMBNAIL = re.compile(r"_thumb(\d{6})\.jpg")

_CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


def suffix(name: str | PurePath) -> str:
    return PurePath(name).suffix.lower()


def is_image_name(name: str | PurePath) -> bool:
    return suffix(name) in IMAGE_SUFFIXES


def is_media_suffix(name: str | PurePath) -> bool:
    """A video or image suffix (whatever the name's stem)."""
    return suffix(name) in MEDIA_SUFFIXES


def is_output_name(name: str | PurePath) -> bool:
    """A name veil writes as a media output: ``_redacted``, ``_review`` or a thumbnail."""
    return bool(_OUTPUT_STEM.fullmatch(PurePath(name).stem))


def redacted_name(stem: str, input_suffix: str, outline_only: bool = False) -> str:
    """``<stem>_redacted.mp4`` for a video, ``<stem>_redacted.<suffix>`` for an image.

    ``outline_only`` (the ``box`` blur, which hides nothing): ``<stem>_review.*``, so a
    file with every face visible is never named as if it were redacted.
    """
    out = input_suffix if input_suffix.lower() in IMAGE_SUFFIXES else VIDEO_OUTPUT_SUFFIX
    return f"{stem}_{'review' if outline_only else 'redacted'}{out}"


def annotations_name(stem: str) -> str:
    return f"{stem}_annotations.json"


def thumbnail_name(stem: str, face_id: int) -> str:
    return f"{stem}_thumb{face_id:06d}.jpg"


def thumbnail_id(stem: str, name: str) -> int | None:
    """The face ID of ``<stem>_thumbNNNNNN.jpg``, else None."""
    if not name.startswith(stem):
        return None
    found = _THUMBNAIL.fullmatch(name[len(stem) :])
    return int(found.group(1)) if found else None


def report_name(stem: str) -> str:
    return f"{stem}_report.json"


def id_list_name(stem: str) -> str:
    """Azure's ID list: the chosen face IDs, one per line."""
    return f"{stem}_ids.txt"


def facedetect_name(stem: str, azure_mode: str) -> str:
    """``<stem>_faces.json``, ``<stem>_perfaceemotion.json``, ``<stem>_aggregateemotion.json``."""
    return f"{stem}_{azure_mode.lower()}.json"


def emotions_plot_name(stem: str) -> str:
    return f"{stem}_emotions.png"


def content_type(name: str | PurePath) -> str:
    """The MIME type a file is served with."""
    return _CONTENT_TYPES.get(suffix(name), "application/octet-stream")
