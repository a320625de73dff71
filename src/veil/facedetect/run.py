"""The ``detect`` job: faces from the redaction's analysis, then emotions, stats and files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from veil.annotations import Annotations
from veil.annotations.io import dump_document
from veil.atomic import atomic_path, write_atomic
from veil.detect import FaceDetector
from veil.emotion import EmotionModel
from veil.errors import InputError
from veil.facedetect.emotions import SMOOTH_MS, FaceEmotions, score_faces, smooth_ticks
from veil.facedetect.output import (
    AggregateSeries,
    aggregate_document,
    aggregate_for,
    faces_document,
)
from veil.facedetect.plot import emotion_plot
from veil.facedetect.settings import AggregateSettings, FaceDetectMode
from veil.facedetect.stats import Summary, csv_text, summarize
from veil.media import DecodeReport, is_image, probe, read_frames, read_image, write_image
from veil.names import facedetect_name
from veil.pipeline.config import PipelineConfig
from veil.pipeline.run import analyze_media
from veil.types import DecodedFrame

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class FaceDetectConfig:
    """Settings of a Face Detector run besides the detector itself.

    Attributes:
        mode: which output.
        pipeline: detection and tracking, exactly as redaction's (the detector
            itself is passed built; redaction and encoder settings are unused).
        aggregate: window and interval of aggregate emotion (and of the plot).
        smooth_ms: span of the per-track moving average of emotion scores.
        emotions: compute emotions even in faces mode (for the plot and the CSV).
    """

    mode: FaceDetectMode = FaceDetectMode.FACES
    pipeline: PipelineConfig = PipelineConfig()
    aggregate: AggregateSettings = field(default_factory=AggregateSettings)
    smooth_ms: float = SMOOTH_MS
    emotions: bool = False

    @property
    def needs_emotions(self) -> bool:
        return self.emotions or self.mode.needs_emotions


@dataclass(frozen=True, eq=False)
class FaceDetectResult:
    """Everything one run found in one input."""

    input: Path
    mode: FaceDetectMode
    annotations: Annotations
    document: dict
    summary: Summary
    emotions: FaceEmotions | None
    series: AggregateSeries | None
    frames: int
    damaged_frames: list[int] = field(default_factory=list)
    seconds: float = 0.0
    outputs: list[Path] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "input": str(self.input),
            "mode": self.mode.value,
            "outputs": [str(p) for p in self.outputs],
            "frames": self.frames,
            **self.summary.to_json(),
            "damaged_frames": self.damaged_frames,
            "seconds_taken": round(self.seconds, 3),
        }


def detect_faces(
    src: Path,
    detector: FaceDetector,
    emotion_model: Callable[[], EmotionModel],
    config: FaceDetectConfig = FaceDetectConfig(),
    on_frame: ProgressCallback | None = None,
) -> FaceDetectResult:
    """Tracks faces in ``src`` exactly as ``veil analyze`` does, then scores emotions.

    ``emotion_model`` is called (once) only when emotions are needed, so a
    faces-only run never loads the model.
    """
    started = time.perf_counter()
    frames: Callable[[], Iterable[DecodedFrame]]
    analysis = analyze_media(src, detector, config.pipeline, on_frame)
    if is_image(src):
        rotation, frame_rate = 0, Fraction(1)
        frames = lambda: [DecodedFrame(0, Fraction(0), read_image(src))]  # noqa: E731
    else:
        info = probe(src)
        rotation, frame_rate = info.rotation, info.frame_rate
        frames = lambda: read_frames(src, DecodeReport())  # noqa: E731

    annotations = analysis.annotations
    emotions = series = None
    if config.needs_emotions:
        done = analysis.report.frames
        progress = None if on_frame is None else (lambda n: on_frame(done + n))
        raw = score_faces(frames(), annotations, rotation, emotion_model(), progress)
        emotions = raw.smoothed(smooth_ticks(annotations, config.smooth_ms))
        series = aggregate_for(annotations, emotions, config.aggregate, frame_rate)
    if config.mode is FaceDetectMode.AGGREGATE_EMOTION:
        assert series is not None
        document = aggregate_document(annotations, series)
    elif config.mode is FaceDetectMode.PER_FACE_EMOTION:
        document = faces_document(annotations, emotions)
    else:
        document = faces_document(annotations)
    return FaceDetectResult(
        input=src,
        mode=config.mode,
        annotations=annotations,
        document=document,
        summary=summarize(annotations, emotions),
        emotions=emotions,
        series=series,
        frames=analysis.report.frames,
        damaged_frames=list(analysis.report.damaged_frames),
        seconds=time.perf_counter() - started,
    )


def output_name(src: Path, mode: FaceDetectMode) -> str:
    """``<stem>_faces.json``, ``<stem>_perfaceemotion.json``, ``<stem>_aggregateemotion.json``."""
    return facedetect_name(src.stem, mode.azure_name)


def write_json(result: FaceDetectResult, path: Path) -> None:
    _write(path, dump_document(result.document).encode("utf-8"))


def write_csv(rows: list[tuple[str, Summary]], path: Path) -> None:
    _write(path, csv_text(rows).encode("utf-8"))


def write_plot(result: FaceDetectResult, path: Path) -> None:
    """The emotions-over-time picture; PNG, JPEG or WebP by the suffix."""
    if result.series is None:
        raise InputError(path, "no emotions were computed for the plot")
    ts = result.annotations.timescale
    window_ms = result.series.window / ts * 1000
    interval_ms = result.series.interval / ts * 1000
    title = (
        f"{result.input.name}: mean emotion scores, window {window_ms:.0f} ms "
        f"every {interval_ms:.0f} ms"
    )
    image = emotion_plot(result.series, ts, title)
    try:
        with atomic_path(path) as tmp:
            write_image(image, tmp)
    except (KeyError, OSError) as exc:
        raise InputError(path, f"cannot write the plot: {exc}") from None


def _write(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as e:
        raise InputError(path, f"cannot write: {e.strerror or e}") from None
