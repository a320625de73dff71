"""``combined`` on one long video, split into segments that an executor runs in parallel."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from veil.annotations import Annotations, write_annotations
from veil.detect import load_detector
from veil.distributed.executors import Executor, Task
from veil.distributed.plan import Segment, overlap_frames, plan_segments
from veil.distributed.stitch import stitch
from veil.distributed.tasks import (
    RenderedSegment,
    SegmentFaces,
    SegmentSource,
    analyze_segment,
    render_segment,
)
from veil.errors import VeilError
from veil.media import is_image, probe
from veil.media.orientation import upright_size
from veil.media.segments import FrameIndex, NotSegmentable, index_frames, join_segments
from veil.pipeline import JobResult, combined
from veil.pipeline.config import PipelineConfig
from veil.pipeline.faces import TrackRecorder
from veil.pipeline.run import refuse_overwriting_input
from veil.track import TrackedFace
from veil.track.identities import EvidenceLog, assess
from veil.types import FaceBox, MediaInfo

log = logging.getLogger(__name__)

DEFAULT_SEGMENT_SECONDS = 10.0


@dataclass(frozen=True)
class SegmentProgress:
    """One segment finished one stage (for progress displays and logs).

    Attributes:
        stage: ``"analyzed"`` or ``"rendered"``.
        segment: the segment.
        done, total: segments finished in this stage so far, and in all.
        seconds: time the task took on its worker.
    """

    stage: str
    segment: Segment
    done: int
    total: int
    seconds: float


@dataclass(frozen=True)
class VideoPlan:
    """One video cut into segments: what every step after planning works from."""

    src: Path
    info: MediaInfo
    index: FrameIndex
    segments: list[Segment]

    @property
    def frames(self) -> int:
        return len(self.index)

    def source(self, start: int, stop: int) -> SegmentSource:
        """Frames ``[start, stop)``, decoded from the keyframe at or before ``start``."""
        seek = self.index.pts[self.index.keyframe_at_or_before(start)]
        return SegmentSource(self.src.resolve(), start, self.index.pts[start:stop], seek)

    def task_name(self, step: str, segment: Segment, start: int, stop: int) -> str:
        """What the executor (Ray's dashboard) calls a segment's task."""
        return (
            f"veil {step} {self.src.name} part {segment.number + 1}/{len(self.segments)} "
            f"frames {start}-{stop - 1}"
        )


class PassProgress:
    """Frames done over both passes, and each segment's steps, to the callers' callbacks."""

    def __init__(
        self,
        segments: int,
        on_frame: Callable[[int], None] | None,
        on_segment: Callable[[SegmentProgress], None] | None,
    ) -> None:
        self.segments = segments
        self.on_frame = on_frame
        self.on_segment = on_segment
        self.frames_done = 0

    def __call__(self, stage: str, result: SegmentFaces | RenderedSegment, done: int) -> None:
        self.frames_done += result.segment.frames
        if self.on_frame is not None:
            self.on_frame(self.frames_done)
        if self.on_segment is not None:
            progress = SegmentProgress(stage, result.segment, done, self.segments, result.seconds)
            self.on_segment(progress)


def per_segment(config: PipelineConfig) -> PipelineConfig:
    """``config`` for segment-parallel runs: an executor runs one segment per core, so a
    detector left to every core (``threads`` 0) keeps to one thread; a count given stays."""
    return replace(config, detector=replace(config.detector, threads=config.detector.threads or 1))


def plan_video(src: Path, config: PipelineConfig, segment_seconds: float) -> VideoPlan | None:
    """Step 1: ``src`` cut at keyframes, or None where it runs whole: an image, or a
    video whose timestamps cannot be trusted."""
    if is_image(src):
        return None
    info = probe(src)
    try:
        index = index_frames(src, info)
    except NotSegmentable as exc:
        log.warning("%s; running it as one segment here", exc)
        return None
    overlap = overlap_frames(config.tracker, config.detect_every)
    return VideoPlan(src, info, index, plan_segments(index, segment_seconds, overlap))


def analyze_segments(
    plan: VideoPlan, executor: Executor, config: PipelineConfig, progress: PassProgress
) -> list[SegmentFaces]:
    """Step 2: every segment's window analysed, in parallel."""
    tasks = [
        Task(
            plan.task_name("analyze", s, s.window_start, s.window_stop),
            analyze_segment,
            (plan.source(s.window_start, s.window_stop), s, plan.info, config, plan.frames),
        )
        for s in plan.segments
    ]
    views: list[SegmentFaces] = []
    for done, (_, view) in enumerate(executor.run(tasks), start=1):
        views.append(view)
        progress("analyzed", view, done)
    return views


def stitch_segments(
    plan: VideoPlan, views: list[SegmentFaces]
) -> tuple[list[list[TrackedFace]], Annotations]:
    """Step 3: one set of IDs for the whole video, and its annotations."""
    faces = stitch(views, plan.frames)
    info = plan.info
    recorder = TrackRecorder(info)
    evidence = EvidenceLog(*upright_size(info.width, info.height, info.rotation))
    for frame, frame_faces in enumerate(faces):
        recorder.add(frame, plan.index.time(frame), frame_faces)
        evidence.add(frame, frame_faces)
    # the same final IDs as a one-process run: the same evidence, frame by frame
    return faces, recorder.annotations(str(plan.src), assess(evidence))


def render_segments(
    plan: VideoPlan,
    faces: list[list[TrackedFace]],
    executor: Executor,
    config: PipelineConfig,
    progress: PassProgress,
    folder: Path,
) -> tuple[list[Path], list[int], float]:
    """Step 4: every segment encoded on its own, with the same settings, into ``folder``.

    Returns:
        The parts in order, the frames the decoder marked damaged, and the tasks' seconds.
    """
    tasks = [
        Task(
            plan.task_name("render", s, s.start, s.stop),
            render_segment,
            (
                plan.source(s.start, s.stop),
                s,
                plan.info,
                [[FaceBox(f.track_id, *f.xyxy) for f in faces[i]] for i in range(s.start, s.stop)],
                config.redaction,
                config.encoder,
            ),
        )
        for s in plan.segments
    ]
    parts = [folder / f"part{s.number:05d}.mp4" for s in plan.segments]
    damaged: list[int] = []
    seconds = 0.0
    for done, (position, rendered) in enumerate(executor.run(tasks), start=1):
        parts[position].write_bytes(rendered.data)
        damaged.extend(rendered.damaged_frames)
        seconds += rendered.seconds
        progress("rendered", rendered, done)
    return parts, damaged, seconds


def join_parts(plan: VideoPlan, parts: list[Path], dst: Path) -> None:
    """Step 5: the parts one after another, without re-encoding; audio from the source."""
    written = join_segments(plan.src, parts, dst, plan.info)
    if written != plan.frames:
        dst.unlink(missing_ok=True)
        raise VeilError(f"internal: {plan.frames} frames in, {written} frames joined")


def combined_segments(
    src: Path,
    dst: Path,
    executor: Executor,
    config: PipelineConfig = per_segment(PipelineConfig()),
    annotations_out: Path | None = None,
    on_frame: Callable[[int], None] | None = None,
    segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
    on_segment: Callable[[SegmentProgress], None] | None = None,
    timings: dict[str, float] | None = None,
) -> JobResult:
    """Find, track and hide faces like :func:`veil.pipeline.combined`, segment-parallel.

    The video is cut at keyframes into segments of about ``segment_seconds``
    (:func:`plan_video`); the executor analyses every segment, with overlap
    (:func:`analyze_segments`); the tracks are stitched here
    (:func:`stitch_segments`); the executor encodes every segment
    (:func:`render_segments`), and the parts are joined here without
    re-encoding (:func:`join_parts`). ``on_frame`` gets frames done over both
    passes (analysis, then rendering: up to twice the frame count), once per
    finished segment. Images and videos whose timestamps cannot be trusted
    run whole, in this process. ``config`` is used as given: pass it through
    :func:`per_segment` to keep each segment's detector to one thread.

    Raises:
        VeilError: a bad input (as ``combined``), or the executor failed.
    """
    started = time.perf_counter()
    refuse_overwriting_input(src, dst)
    plan = plan_video(src, config, segment_seconds)
    if plan is None:
        detector = load_detector(config.detector)
        return combined(src, dst, detector, config, annotations_out, on_frame)
    clock = {"plan": time.perf_counter() - started}
    progress = PassProgress(len(plan.segments), on_frame, on_segment)

    tick = time.perf_counter()
    views = analyze_segments(plan, executor, config, progress)
    clock["analyze"] = time.perf_counter() - tick
    tick = time.perf_counter()
    faces, annotations = stitch_segments(plan, views)
    clock["stitch"] = time.perf_counter() - tick
    with tempfile.TemporaryDirectory(prefix=f".{dst.stem}.parts-", dir=_parts_dir(dst)) as tmp:
        tick = time.perf_counter()
        parts, damaged, render_seconds = render_segments(
            plan, faces, executor, config, progress, Path(tmp)
        )
        clock["render"] = time.perf_counter() - tick
        tick = time.perf_counter()
        join_parts(plan, parts, dst)
        clock["join"] = time.perf_counter() - tick
    outputs = [dst]
    if annotations_out is not None:
        write_annotations(annotations, annotations_out)
        outputs.append(annotations_out)
    if timings is not None:
        task_seconds = sum(v.seconds for v in views) + render_seconds
        timings.update(clock, segments=len(plan.segments), task_seconds=task_seconds)
    return JobResult(
        input=src,
        outputs=outputs,
        frames=plan.frames,
        face_ids=sorted(annotations.face_ids()),
        damaged_frames=sorted(damaged),
        seconds=time.perf_counter() - started,
    )


def _parts_dir(dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    return dst.parent
