"""Rendering: annotations -> redacted frames -> encoded output."""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from veil.annotations import AnnotationIndex, Annotations
from veil.atomic import atomic_path
from veil.errors import InputError
from veil.media import DecodeReport, EncoderSettings, probe, read_image, transcode, write_image
from veil.media.orientation import boxes_to_storage, upright_size
from veil.redact import RedactionConfig, redact_frame
from veil.types import DecodedFrame, FaceBox, MediaInfo

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]

# Annotations made on a proxy of another size are fine; another shape is another video.
_ASPECT_TOLERANCE = 0.02


def check_matches(annotations: Annotations, width: int, height: int, source: Path) -> None:
    """Refuse annotations that were made for a frame of another shape."""
    ours, theirs = width / height, annotations.width / annotations.height
    if abs(ours / theirs - 1) > _ASPECT_TOLERANCE:
        raise InputError(
            source,
            f"annotations are for a {annotations.width}x{annotations.height} frame, "
            f"the input is {width}x{height}: not the same video",
        )


def faces_in_storage(faces: list[FaceBox], info: MediaInfo) -> list[FaceBox]:
    """Upright annotation boxes -> boxes in the stored frame's pixels."""
    if not faces or not info.rotation:
        return faces
    xyxy = np.array([[f.x0, f.y0, f.x1, f.y1] for f in faces], np.float32)
    stored = boxes_to_storage(xyxy, info.rotation, info.width, info.height)
    return [FaceBox(f.face_id, *map(float, box)) for f, box in zip(faces, stored, strict=True)]


def redaction_transform(
    index: AnnotationIndex, info: MediaInfo, config: RedactionConfig
) -> Callable[[DecodedFrame], NDArray[np.uint8]]:
    def transform(frame: DecodedFrame) -> NDArray[np.uint8]:
        faces = faces_in_storage(index.faces_at(frame.time), info)
        return redact_frame(frame.rgb, faces, config)

    return transform


def render_video(
    src: Path,
    dst: Path,
    annotations: Annotations,
    redaction: RedactionConfig,
    encoder: EncoderSettings,
    annotations_source: Path,
    on_frame: ProgressCallback | None = None,
) -> DecodeReport:
    """Write ``dst``: ``src`` with the faces in ``annotations`` hidden."""
    info = probe(src)
    size = upright_size(info.width, info.height, info.rotation)
    check_matches(annotations, *size, annotations_source)
    index = AnnotationIndex(annotations, size)
    transform = redaction_transform(index, info, redaction)
    return transcode(src, dst, transform, encoder, on_frame=on_frame)


def render_image(
    src: Path,
    dst: Path,
    annotations: Annotations,
    redaction: RedactionConfig,
    annotations_source: Path,
) -> DecodeReport:
    rgb = read_image(src)
    height, width = rgb.shape[:2]
    check_matches(annotations, width, height, annotations_source)
    # an image is a one-frame video: its faces are the first event's
    first = annotations.fragments[0].start if annotations.fragments else 0
    time = Fraction(annotations.offset + first, annotations.timescale)
    faces = AnnotationIndex(annotations, (width, height)).faces_at(time)
    with atomic_path(dst) as tmp:
        write_image(redact_frame(rgb, faces, redaction), tmp)
    return DecodeReport(frames=1)
