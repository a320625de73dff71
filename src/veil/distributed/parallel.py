"""Segment-parallel ``combined`` as a command runs it: typed options, one executor per run."""

from __future__ import annotations

import atexit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from veil.distributed.executors import Executor, make_executor
from veil.distributed.job import DEFAULT_SEGMENT_SECONDS, combined_segments, per_segment
from veil.errors import VeilError
from veil.pipeline import JobResult
from veil.pipeline.config import PipelineConfig
from veil.pipeline.jobs import Segmented

_executors: dict[tuple[str, str | None], Executor] = {}


@dataclass(frozen=True)
class ParallelOptions:
    """How ``veil combined --executor ...`` splits its inputs.

    Attributes:
        executor: ``"local"`` (this machine's cores) or ``"ray"`` (a Ray cluster).
        ray_address: the Ray cluster's HOST:PORT; None starts a private one here.
        segment_seconds: about how long each segment is.
    """

    executor: str
    ray_address: str | None = None
    segment_seconds: float = DEFAULT_SEGMENT_SECONDS


def _executor(name: str, address: str | None) -> Executor:
    key = (name, address if name == "ray" else None)
    if key not in _executors:
        executor = make_executor(name, ray_address=address)
        _executors[key] = executor
        atexit.register(executor.close)
    return _executors[key]


def run_combined(
    options: ParallelOptions,
    src: Path,
    dst: Path,
    config: PipelineConfig,
    annotations_out: Path | None,
    on_frame: Callable[[int], None],
) -> JobResult:
    """One input of ``veil combined --executor ...``."""
    if options.segment_seconds <= 0:
        raise VeilError("--segment-seconds must be more than 0")
    if config.hwaccel is not None:
        # each worker decodes its own segment in software
        raise VeilError("--hwaccel is not supported with --executor")
    executor = _executor(options.executor, options.ray_address)
    run = on_executor(executor, options.segment_seconds)
    return run(src, dst, config, annotations_out, on_frame)


def on_executor(executor: Executor, segment_seconds: float) -> Segmented:
    """``combined`` segment-parallel on ``executor`` (a :data:`~veil.pipeline.jobs.Segmented`),
    each segment's detector kept to one thread unless the config gives a count."""

    def run(
        src: Path,
        dst: Path,
        config: PipelineConfig,
        annotations_out: Path | None,
        on_frame: Callable[[int], None],
    ) -> JobResult:
        return combined_segments(
            src,
            dst,
            executor,
            per_segment(config),
            annotations_out,
            on_frame,
            segment_seconds=segment_seconds,
        )

    return run
