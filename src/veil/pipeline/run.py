"""The three jobs a user runs on one input: analyze, redact, combined.

These are the library calls behind every shell (CLI, service, review app):
each takes explicit paths and settings and returns a :class:`JobResult`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from veil.annotations import (
    Annotations,
    read_annotations,
    select_ids,
    write_annotations,
)
from veil.annotations.regions import region_ids
from veil.atomic import atomic_path
from veil.audio import AudioSpan, Effect, SpanRedaction
from veil.detect import FaceDetector
from veil.errors import VeilError
from veil.media import (
    DecodeReport,
    PictureProcessor,
    is_image,
    probe,
    transcode,
    write_image,
)
from veil.names import annotations_name, thumbnail_name
from veil.pipeline.analyze import Analysis, analyze_image, analyze_video
from veil.pipeline.config import PipelineConfig
from veil.pipeline.faces import FaceFinder, FaceIds, TrackRecorder
from veil.pipeline.objects import RegionRequest, find_regions
from veil.pipeline.render import AnnotatedRedaction, TrackedRedaction, render_image

ProgressCallback = Callable[[int], None]


@dataclass
class JobResult:
    """What one job did, for the summary (``--json``) and the service's job report."""

    input: Path
    outputs: list[Path] = field(default_factory=list)
    frames: int = 0
    face_ids: list[int] = field(default_factory=list)
    damaged_frames: list[int] = field(default_factory=list)
    seconds: float = 0.0
    # face-like spans below the threshold, for review: id, frames, confidence
    candidates: list[dict] = field(default_factory=list)
    # regions that are not faces (marked objects, plates, text) hidden too
    regions: int = 0

    def to_json(self) -> dict:
        return {
            "input": str(self.input),
            "outputs": [str(p) for p in self.outputs],
            "frames": self.frames,
            "faces": len(self.face_ids),
            "face_ids": self.face_ids,
            "candidates": self.candidates,
            "damaged_frames": self.damaged_frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.frames / self.seconds, 2) if self.seconds else None,
        } | ({"regions": self.regions} if self.regions else {})


def refuse_overwriting_input(src: Path, dst: Path) -> None:
    """The original is never modified: an output path onto the input is an error."""
    if dst.exists() and dst.resolve() == src.resolve():
        raise VeilError(f"{dst}: output would overwrite the input; choose another -o")


def thumbnail_path(out_dir: Path, stem: str, face_id: int) -> Path:
    return out_dir / thumbnail_name(stem, face_id)


def annotations_path(out_dir: Path, stem: str) -> Path:
    return out_dir / annotations_name(stem)


def write_thumbnails(
    thumbnails: dict[int, NDArray[np.uint8]], out_dir: Path, stem: str
) -> list[Path]:
    paths = []
    for face_id, crop in thumbnails.items():
        path = thumbnail_path(out_dir, stem, face_id)
        with atomic_path(path) as tmp:
            write_image(crop, tmp)
        paths.append(path)
    return paths


def analyze_media(
    src: Path,
    detector: FaceDetector,
    config: PipelineConfig,
    on_frame: ProgressCallback | None = None,
) -> Analysis:
    """Faces of a video or a photo, tracked, with thumbnails: what ``analyze`` writes."""
    if is_image(src):
        return analyze_image(src, detector, config.small_faces)
    return analyze_video(src, detector, config, on_frame)


def analyze(
    src: Path,
    out_dir: Path,
    detector: FaceDetector,
    config: PipelineConfig = PipelineConfig(),
    on_frame: ProgressCallback | None = None,
    regions: RegionRequest | None = None,
) -> JobResult:
    """Write ``<stem>_annotations.json`` and one thumbnail per face ID into ``out_dir``;
    the ``regions`` asked for (plates, text, marked boxes) join the annotations with
    their kind, for review and ``redact``."""
    started = time.perf_counter()
    if is_image(src):
        refuse_regions_on_image(src, regions)
    analysis = analyze_media(src, detector, config, on_frame)
    annotations = analysis.annotations
    if regions:
        found = find_regions(src, probe(src), regions)
        annotations = found.add_to(annotations)
    thumbs = write_thumbnails(analysis.thumbnails, out_dir, src.stem)
    # the annotations go last: their presence means the analysis is complete
    json_path = annotations_path(out_dir, src.stem)
    write_annotations(annotations, json_path)
    face_ids = annotations.face_ids() - region_ids(annotations)
    result = _result(src, [json_path, *thumbs], face_ids, analysis.report, started)
    result.candidates = candidate_summary(annotations)
    result.regions = len(region_ids(annotations))
    return result


def candidate_summary(annotations: Annotations) -> list[dict]:
    """Each candidate of ``annotations`` in a line: its ID, frames and best score."""
    return [
        {
            "id": c.id,
            "first_frame": c.boxes[0].index,
            "last_frame": c.boxes[-1].index,
            "detections": len(c.boxes),
            "confidence": max(b.confidence for b in c.boxes),
        }
        for c in annotations.candidates or ()
    ]


def _result(
    src: Path, outputs: list[Path], face_ids: Iterable[int], report: DecodeReport, started: float
) -> JobResult:
    return JobResult(
        input=src,
        outputs=outputs,
        frames=report.frames,
        face_ids=sorted(face_ids),
        damaged_frames=list(report.damaged_frames),
        seconds=time.perf_counter() - started,
    )


def annotated_audio_spans(annotations: Annotations) -> tuple[AudioSpan, ...]:
    """The audio spans an annotations file lists (its veil extra ``audioSpans``)."""
    return tuple(
        AudioSpan(e.start, e.end, Effect(e.effect), e.by, e.reason or "")
        for e in annotations.audioSpans or ()
    )


def _render(
    src: Path,
    dst: Path,
    processor: PictureProcessor,
    config: PipelineConfig,
    on_frame: ProgressCallback | None,
    audio_spans: tuple[AudioSpan, ...],
) -> DecodeReport:
    """Encode ``dst``: pictures through ``processor``, sound through the spans (copied
    as it is without any)."""
    audio = SpanRedaction(audio_spans) if audio_spans else None
    return transcode(
        src,
        dst,
        processor,
        config.encoder,
        on_frame=on_frame,
        hwaccel=config.hwaccel,
        audio=audio,
    )


def redact(
    src: Path,
    dst: Path,
    annotations_file: Path,
    ids: frozenset[int] | None = None,
    config: PipelineConfig = PipelineConfig(),
    on_frame: ProgressCallback | None = None,
    regions: RegionRequest | None = None,
) -> JobResult:
    """Blur the faces listed in ``annotations_file`` (only ``ids`` if given) into ``dst``,
    and the ``regions`` asked for (marked boxes followed, plates, text)."""
    started = time.perf_counter()
    refuse_overwriting_input(src, dst)
    annotations = read_annotations(annotations_file)
    unknown = sorted(ids - annotations.face_ids()) if ids else []
    if unknown:
        raise VeilError(
            f"ID list names faces that are not in {annotations_file}: "
            + ", ".join(map(str, unknown))
        )
    chosen = select_ids(annotations, ids)
    marked = None
    if is_image(src):
        refuse_regions_on_image(src, regions)
        render_image(src, dst, chosen, config.redaction, annotations_file)
        report = DecodeReport(frames=1)
    else:
        info = probe(src)
        marked = find_regions(src, info, regions) if regions else None
        processor = AnnotatedRedaction(chosen, info, config.redaction, annotations_file, marked)
        spans = config.audio_spans + annotated_audio_spans(annotations)
        report = _render(src, dst, processor, config, on_frame, spans)
    regions_chosen = region_ids(chosen)  # one walk over every box
    result = _result(src, [dst], chosen.face_ids() - regions_chosen, report, started)
    result.regions = len(regions_chosen) + (len(marked.tracks) if marked else 0)
    return result


def refuse_regions_on_image(src: Path, regions: RegionRequest | None) -> None:
    if regions:
        raise VeilError(f"{src}: plates, text and marked boxes are found in videos only")


def combined(
    src: Path,
    dst: Path,
    detector: FaceDetector,
    config: PipelineConfig = PipelineConfig(),
    annotations_out: Path | None = None,
    on_frame: ProgressCallback | None = None,
    regions: RegionRequest | None = None,
) -> JobResult:
    """Find, track and hide faces in one pass; the annotations are written too if asked.

    Without ``annotations_out`` only the faces' IDs are kept, so memory does
    not grow with the video's length.
    """
    started = time.perf_counter()
    refuse_overwriting_input(src, dst)
    annotations: Annotations | None = None
    marked = None
    if is_image(src):
        refuse_regions_on_image(src, regions)
        analysis = analyze_image(src, detector, config.small_faces)
        annotations, report = analysis.annotations, analysis.report
        render_image(src, dst, annotations, config.redaction, src)
        face_ids = annotations.face_ids()
    else:
        info = probe(src)
        marked = find_regions(src, info, regions) if regions else None
        finder = FaceFinder(detector, config, info)
        recorder = TrackRecorder(info) if annotations_out is not None else FaceIds()
        processor = TrackedRedaction(finder, recorder, config.redaction, marked)
        report = _render(src, dst, processor, config, on_frame, config.audio_spans)
        identities = finder.identities()
        if isinstance(recorder, TrackRecorder):
            annotations = recorder.annotations(str(src), identities, finder.candidates())
            if marked is not None:
                annotations = marked.add_to(annotations)
        face_ids = recorder.face_ids(identities)
    outputs = [dst]
    if annotations_out is not None and annotations is not None:
        write_annotations(annotations, annotations_out)
        outputs.append(annotations_out)
    result = _result(src, outputs, face_ids, report, started)
    result.candidates = candidate_summary(annotations) if annotations is not None else []
    result.regions = len(marked.tracks) if marked else 0
    return result
