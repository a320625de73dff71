"""``combined`` on one long video, split into segments that an executor runs in parallel."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from veil.annotations import write_annotations
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
from veil.track.identities import EvidenceLog, assess
from veil.types import FaceBox

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


def _source(path: Path, index: FrameIndex, start: int, stop: int) -> SegmentSource:
    seek = index.pts[index.keyframe_at_or_before(start)]
    return SegmentSource(path.resolve(), start, index.pts[start:stop], seek)


def per_segment(config: PipelineConfig) -> PipelineConfig:
    """``config`` for segment-parallel runs: an executor runs one segment per core, so a
    detector left to every core (``threads`` 0) keeps to one thread; a count given stays."""
    return replace(config, detector=replace(config.detector, threads=config.detector.threads or 1))


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

    The video is cut at keyframes into segments of about ``segment_seconds``;
    the executor analyses every segment (with overlap), the tracks are
    stitched here, the executor encodes every segment, and the parts are
    joined here without re-encoding. ``on_frame`` gets frames done over both
    passes (analysis, then rendering: up to twice the frame count), once per
    finished segment. Images and videos whose timestamps cannot be trusted
    run whole, in this process. ``config`` is used as given: pass it through
    :func:`per_segment` to keep each segment's detector to one thread.

    Raises:
        VeilError: a bad input (as ``combined``), or the executor failed.
    """
    started = time.perf_counter()
    refuse_overwriting_input(src, dst)
    index: FrameIndex | None = None
    if not is_image(src):
        info = probe(src)
        try:
            index = index_frames(src, info)
        except NotSegmentable as exc:
            log.warning("%s; running it as one segment here", exc)
    if index is None:
        detector = load_detector(config.detector)
        return combined(src, dst, detector, config, annotations_out, on_frame)

    overlap = overlap_frames(config.tracker, config.detect_every)
    segments = plan_segments(index, segment_seconds, overlap)
    count = len(index)
    clock = {"plan": time.perf_counter() - started}
    frames_done = 0

    def progress(stage: str, result: SegmentFaces | RenderedSegment, done: int) -> None:
        nonlocal frames_done
        frames_done += result.segment.frames
        if on_frame is not None:
            on_frame(frames_done)
        if on_segment is not None:
            on_segment(SegmentProgress(stage, result.segment, done, len(segments), result.seconds))

    # 1. analysis: every segment's window, in parallel
    tick = time.perf_counter()
    name = src.name
    analyze_tasks = [
        Task(
            f"veil analyze {name} part {s.number + 1}/{len(segments)} "
            f"frames {s.window_start}-{s.window_stop - 1}",
            analyze_segment,
            (_source(src, index, s.window_start, s.window_stop), s, info, config, count),
        )
        for s in segments
    ]
    views: list[SegmentFaces] = []
    for done, (_, view) in enumerate(executor.run(analyze_tasks), start=1):
        views.append(view)
        progress("analyzed", view, done)
    clock["analyze"] = time.perf_counter() - tick

    # 2. one set of IDs for the whole video
    tick = time.perf_counter()
    faces = stitch(views, count)
    recorder = TrackRecorder(info)
    evidence = EvidenceLog(*upright_size(info.width, info.height, info.rotation))
    for frame, frame_faces in enumerate(faces):
        recorder.add(frame, index.time(frame), frame_faces)
        evidence.add(frame, frame_faces)
    # the same final IDs as a one-process run: the same evidence, frame by frame
    annotations = recorder.annotations(str(src), assess(evidence))
    clock["stitch"] = time.perf_counter() - tick

    # 3. rendering: every segment encoded on its own, with the same settings
    tick = time.perf_counter()
    render_tasks = [
        Task(
            f"veil render {name} part {s.number + 1}/{len(segments)} frames {s.start}-{s.stop - 1}",
            render_segment,
            (
                _source(src, index, s.start, s.stop),
                s,
                info,
                [[FaceBox(f.track_id, *f.xyxy) for f in faces[i]] for i in range(s.start, s.stop)],
                config.redaction,
                config.encoder,
            ),
        )
        for s in segments
    ]
    damaged: list[int] = []
    task_seconds = sum(v.seconds for v in views)
    with tempfile.TemporaryDirectory(prefix=f".{dst.stem}.parts-", dir=_parts_dir(dst)) as tmp:
        parts: list[Path] = [Path(tmp) / f"part{s.number:05d}.mp4" for s in segments]
        for done, (position, rendered) in enumerate(executor.run(render_tasks), start=1):
            parts[position].write_bytes(rendered.data)
            damaged.extend(rendered.damaged_frames)
            task_seconds += rendered.seconds
            progress("rendered", rendered, done)
        clock["render"] = time.perf_counter() - tick

        # 4. the parts, one after another, without re-encoding; audio from the source
        tick = time.perf_counter()
        written = join_segments(src, parts, dst, info)
        clock["join"] = time.perf_counter() - tick
    if written != count:
        dst.unlink(missing_ok=True)
        raise VeilError(f"internal: {count} frames in, {written} frames joined")
    outputs = [dst]
    if annotations_out is not None:
        write_annotations(annotations, annotations_out)
        outputs.append(annotations_out)
    if timings is not None:
        timings.update(clock, segments=len(segments), task_seconds=task_seconds)
    return JobResult(
        input=src,
        outputs=outputs,
        frames=count,
        face_ids=sorted(annotations.face_ids()),
        damaged_frames=sorted(damaged),
        seconds=time.perf_counter() - started,
    )


def _parts_dir(dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    return dst.parent
