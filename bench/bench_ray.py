"""Segment-parallel redaction on Ray: speed-up for 1 and 2 workers, and the cost figures.

    python bench/bench_ray.py [--seconds 30] [--size 1280x720] [--segment-seconds 5]
                              [--gop 50] [--workers 1 2] [--json out.json]

Writes a clip of moving faces (keyframe every ``--gop`` frames), times the
sequential ``combined`` (in this process, model already loaded), then for each
worker count starts a loopback Ray cluster of that many one-CPU nodes, warms
the workers up on a short clip (imports, model loading) and times
``combined_segments`` with the Ray executor. Prints a markdown table and the
figures of the scaling model: per-frame analysis and render work, the overlap
overhead, and the driver's own serial costs (plan, stitch, join). The machine
is shared with other work: compare ratios, not absolute figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from veil.detect import load_detector
from veil.distributed import (
    RayExecutor,
    combined_segments,
    overlap_frames,
    per_segment,
    plan_segments,
)
from veil.distributed.loopback import LoopbackCluster, loopback_environment
from veil.media import probe
from veil.media.segments import index_frames
from veil.pipeline import PipelineConfig, combined

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the seam clip writer of the tests

loopback_environment()


def write_clip(path: Path, seconds: float, size: tuple[int, int], gop: int) -> None:
    from distributed.helpers import FPS
    from distributed.helpers import write_clip as write_test_clip

    write_test_clip(path, frames=round(seconds * FPS), gop=gop, size=size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--segment-seconds", type=float, default=5.0)
    parser.add_argument("--gop", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    import ray

    results: dict = {"size": args.size, "seconds": args.seconds, "gop": args.gop, "runs": []}
    with tempfile.TemporaryDirectory(prefix="veil-bench-ray-") as tmp:
        work = Path(tmp)
        clip, warm = work / "clip.mp4", work / "warm.mp4"
        write_clip(clip, args.seconds, size, args.gop)  # type: ignore[arg-type]
        write_clip(warm, 2.0, size, args.gop)  # type: ignore[arg-type]
        config = PipelineConfig()
        info = probe(clip)
        started = time.perf_counter()
        index = index_frames(clip, info)
        index_seconds = time.perf_counter() - started
        overlap = overlap_frames(config.tracker, config.detect_every)
        segments = plan_segments(index, args.segment_seconds, overlap)
        window = sum(s.window_frames for s in segments)
        results.update(
            frames=len(index),
            segments=len(segments),
            overlap_frames=overlap,
            analysed_frames=window,
            index_seconds=round(index_seconds, 3),
        )

        detector = load_detector(config.detector)
        combined(warm, work / "w.mp4", detector, config)
        started = time.perf_counter()
        combined(clip, work / "seq.mp4", detector, config)
        sequential = time.perf_counter() - started
        results["sequential_seconds"] = round(sequential, 2)
        print(f"sequential: {sequential:.1f} s ({len(index) / sequential:.1f} fps)", flush=True)

        for workers in args.workers:
            with LoopbackCluster(cpus=[1] * workers, dashboard=False, object_store_mb=300) as c:
                started = time.perf_counter()
                ray.init(address=c.address, log_to_driver=False)
                c.wait_for_nodes(ray)
                startup = time.perf_counter() - started
                try:
                    executor = RayExecutor(c.address)
                    # warm every worker: imports and model loading are paid once per worker
                    combined_segments(
                        warm,
                        work / "w.mp4",
                        executor,
                        per_segment(config),
                        segment_seconds=2.0 / workers,
                    )
                    timings: dict = {}
                    started = time.perf_counter()
                    combined_segments(
                        clip,
                        work / f"ray{workers}.mp4",
                        executor,
                        per_segment(config),
                        segment_seconds=args.segment_seconds,
                        timings=timings,
                    )
                    wall = time.perf_counter() - started
                finally:
                    ray.shutdown()
            run = {
                "workers": workers,
                "seconds": round(wall, 2),
                "speedup": round(sequential / wall, 2),
                "cluster_start_seconds": round(startup, 1),
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in timings.items()},
            }
            results["runs"].append(run)
            print(json.dumps(run), flush=True)

    frames = results["frames"]
    print()
    print(
        f"{args.size}, {frames} frames, {results['segments']} segments of "
        f"{args.segment_seconds:g} s, overlap {overlap} frames each side "
        f"({window / frames:.2f}x frames analysed)"
    )
    print()
    print("| run | wall s | fps | speed-up | analyse s | stitch s | render s | join s | task s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| sequential | {sequential:.1f} | {frames / sequential:.1f} | 1.00 | | | | | |")
    for run in results["runs"]:
        print(
            f"| Ray, {run['workers']} worker(s) | {run['seconds']:.1f} | "
            f"{frames / run['seconds']:.1f} | {run['speedup']:.2f} | {run['analyze']:.1f} | "
            f"{run['stitch']:.3f} | {run['render']:.1f} | {run['join']:.3f} | "
            f"{run['task_seconds']:.1f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
