"""``veil combined --executor local|ray``: the segment-parallel options."""

from __future__ import annotations

import argparse
import os

from veil.distributed.executors import EXECUTOR_NAMES, RAY_ADDRESS_ENV
from veil.distributed.job import DEFAULT_SEGMENT_SECONDS
from veil.distributed.parallel import ParallelOptions


def add_parallel_options(parser: argparse.ArgumentParser) -> None:
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


def parallel_options(args: argparse.Namespace) -> ParallelOptions | None:
    """The options given, or None where the run is not segment-parallel."""
    if args.executor is None:
        return None
    return ParallelOptions(args.executor, args.ray_address, args.segment_seconds)
