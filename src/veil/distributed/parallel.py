"""``veil combined --executor local|ray``: the options, and one executor per command run."""

from __future__ import annotations

import argparse
import atexit
import os
from collections.abc import Callable
from pathlib import Path

from veil.distributed.executors import EXECUTOR_NAMES, RAY_ADDRESS_ENV, Executor, make_executor
from veil.distributed.job import DEFAULT_SEGMENT_SECONDS, combined_segments
from veil.errors import VeilError
from veil.pipeline import JobResult
from veil.pipeline.config import PipelineConfig

_executors: dict[tuple[str, str | None], Executor] = {}


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("segment-parallel")
    group.add_argument(
        "--executor",
        choices=EXECUTOR_NAMES,
        default=None,
        help="split each video at keyframes and redact the segments in parallel: "
        "'local' on this machine's cores, 'ray' on a Ray cluster (default: one "
        "segment, in this process)",
    )
    group.add_argument(
        "--ray-address",
        default=os.environ.get(RAY_ADDRESS_ENV),
        metavar="HOST:PORT",
        help=f"Ray cluster to use with --executor ray (default: ${RAY_ADDRESS_ENV}; "
        "unset: a private Ray instance on this machine)",
    )
    group.add_argument(
        "--segment-seconds",
        type=float,
        default=DEFAULT_SEGMENT_SECONDS,
        metavar="S",
        help="segment length; each segment also analyses ~1 s (the tracker's look-ahead) on each "
        "side, so shorter segments parallelise more and waste more (default: %(default)s)",
    )


def _executor(name: str, address: str | None) -> Executor:
    key = (name, address if name == "ray" else None)
    if key not in _executors:
        executor = make_executor(name, ray_address=address)
        _executors[key] = executor
        atexit.register(executor.close)
    return _executors[key]


def run_combined(
    args: argparse.Namespace,
    config: PipelineConfig,
    src: Path,
    dst: Path,
    annotations_out: Path | None,
    on_frame: Callable[[int], None],
) -> JobResult:
    """One input of ``veil combined --executor ...``."""
    if args.segment_seconds <= 0:
        raise VeilError("--segment-seconds must be more than 0")
    if config.hwaccel is not None:
        # each worker decodes its own segment in software
        raise VeilError("--hwaccel is not supported with --executor")
    executor = _executor(args.executor, args.ray_address)
    return combined_segments(
        src,
        dst,
        executor,
        config,
        annotations_out,
        on_frame,
        segment_seconds=args.segment_seconds,
    )
