"""Rendering: faces -> redacted pictures -> encoded output.

Two sources of faces, one redaction: :class:`AnnotatedRedaction` reads them
from annotations (the two-pass ``redact``), :class:`TrackedRedaction` from the
detector and tracker as the video streams (``combined``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from veil.annotations import AnnotationIndex, Annotations
from veil.annotations.regions import region_ids
from veil.atomic import atomic_path
from veil.errors import InputError
from veil.media import VideoPicture, read_image, write_image
from veil.media.orientation import boxes_to_storage, upright_size
from veil.pipeline.faces import FaceFinder, FaceSink, SettledFrame
from veil.pipeline.objects import ObjectRegions, region_redaction, with_margin
from veil.redact import RedactionConfig, redact_frame, redact_planes
from veil.types import FaceBox, MediaInfo

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


def faces_in_storage(faces: Sequence[FaceBox], info: MediaInfo) -> list[FaceBox]:
    """Upright boxes -> boxes in the stored frame's pixels."""
    if not faces or not info.rotation:
        return list(faces)
    xyxy = np.array([[f.x0, f.y0, f.x1, f.y1] for f in faces], np.float32)
    stored = boxes_to_storage(xyxy, info.rotation, info.width, info.height)
    return [FaceBox(f.face_id, *map(float, box)) for f, box in zip(faces, stored, strict=True)]


def redact_picture(
    picture: VideoPicture,
    faces: Sequence[FaceBox],
    info: MediaInfo,
    config: RedactionConfig,
    regions: Sequence[FaceBox] = (),
) -> VideoPicture:
    """Hide ``faces`` and ``regions`` (plates, text, objects: rectangles), upright
    pixels, in the picture's own planes; nothing to hide, no copy."""
    black, white = picture.levels
    if regions:
        regions = with_margin(regions, picture.width, picture.height)
    for boxes, shaped in ((faces, config), (regions, region_redaction(config))):
        if boxes:
            redact_planes(picture.planes(), faces_in_storage(boxes, info), shaped, black, white)
    return picture


class AnnotatedRedaction:
    """Redacts each picture with the faces the annotations give for its time."""

    def __init__(
        self,
        annotations: Annotations,
        info: MediaInfo,
        config: RedactionConfig,
        source: Path,
        marked: ObjectRegions | None = None,
    ) -> None:
        size = upright_size(info.width, info.height, info.rotation)
        check_matches(annotations, *size, source)
        self.index = AnnotationIndex(annotations, size)
        self.region_ids = region_ids(annotations)
        self.info, self.config, self.marked = info, config, marked

    def push(self, picture: VideoPicture) -> Iterator[VideoPicture]:
        boxes = self.index.faces_at(picture.time)
        faces = [b for b in boxes if b.face_id not in self.region_ids]
        regions = [b for b in boxes if b.face_id in self.region_ids]
        if self.marked is not None:
            regions += self.marked.boxes_at(picture.index)
        yield redact_picture(picture, faces, self.info, self.config, regions)

    def flush(self) -> Iterator[VideoPicture]:
        return iter(())


class TrackedRedaction:
    """Redacts each picture with the faces found and tracked as the video streams."""

    def __init__(
        self,
        finder: FaceFinder,
        recorder: FaceSink,
        config: RedactionConfig,
        marked: ObjectRegions | None = None,
    ) -> None:
        self.finder, self.recorder, self.config = finder, recorder, config
        self.marked = marked

    def push(self, picture: VideoPicture) -> Iterator[VideoPicture]:
        return map(self._redacted, self.finder.push(picture))

    def flush(self) -> Iterator[VideoPicture]:
        return map(self._redacted, self.finder.flush())

    def _redacted(self, settled: SettledFrame) -> VideoPicture:
        picture = settled.picture
        self.recorder.add(picture.index, picture.time, settled.faces)
        faces = [FaceBox(f.track_id, *f.xyxy) for f in settled.faces]
        regions = self.marked.boxes_at(picture.index) if self.marked is not None else []
        return redact_picture(picture, faces, self.finder.info, self.config, regions)


def render_image(
    src: Path, dst: Path, annotations: Annotations, redaction: RedactionConfig, source: Path
) -> None:
    rgb = read_image(src)
    height, width = rgb.shape[:2]
    check_matches(annotations, width, height, source)
    # an image is a one-frame video: its faces are the first event's
    first = annotations.fragments[0].start if annotations.fragments else 0
    time = Fraction(annotations.offset + first, annotations.timescale)
    boxes = AnnotationIndex(annotations, (width, height)).faces_at(time)
    regions = region_ids(annotations)
    faces = [b for b in boxes if b.face_id not in regions]
    redacted = redact_frame(rgb, faces, redaction)
    others = [b for b in boxes if b.face_id in regions]
    if others:
        others = with_margin(others, width, height)
        redact_planes([redacted], others, region_redaction(redaction), black=[0], white=[255])
    with atomic_path(dst) as tmp:
        write_image(redacted, tmp)
