"""Live mode: sustained fps and latency at 720p30 / 1080p30, and leak rate beside offline.

Usage:
    python bench/bench_live.py [--seconds 8] [--sizes 1280x720 1920x1080] [--out DIR]

Each size: a generated clip (faces from ``evaluation.samples``, exact ground truth) is
played as a real-time source (``--realtime`` pacing, as a camera would deliver
it) through a :class:`veil.live.LiveSession` with the default detector and a
recording output (libx264 ``superfast``, zerolatency), so encoding is included.
Reported: output fps, dropped frames, detection latency and end-to-end latency
(decoded -> written) p50/p95. Then the leak rate (face box SSIM vs the
original >= 0.6, :mod:`evaluation.metrics`) of the live recording, and of
``veil combined`` (offline, look-ahead tracker) on the same clip.

The machine is shared: figures vary from run to run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from evaluation.metrics import score_frame, summarize_leaks
from evaluation.samples import DEFAULT_FACES, MovingFace, make_sample_video
from veil.detect import load_detector
from veil.live import LiveConfig, LiveSession, OutputConfig

FPS = 30


def faces_for(width: int) -> list[MovingFace]:
    k = width / 640
    return [
        MovingFace(
            round(f.size * k), (f.start[0] * k, f.start[1] * k), (f.end[0] * k, f.end[1] * k)
        )
        for f in DEFAULT_FACES
    ]


def decode(path: Path) -> tuple[list[np.ndarray], list[float]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, times = [], []
        for f in container.decode(stream):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(float(f.pts * stream.time_base))
    return frames, times


def visible(box, width: int, height: int) -> float:
    x0, y0, x1, y1 = box
    inside = max(0, min(x1, width) - max(x0, 0)) * max(0, min(y1, height) - max(y0, 0))
    return inside / max(1, (x1 - x0) * (y1 - y0))


def leak_rate(original: list[np.ndarray], boxes, output: list[np.ndarray], index: list[int]):
    height, width = original[0].shape[:2]
    scores = []
    for out, k in zip(output, index, strict=True):
        faces = [(i, b, visible(b, width, height)) for i, b in enumerate(boxes[k])]
        scores += score_frame(k, original[k], out, faces)
    return summarize_leaks(scores)


def run_live(clip: Path, out: Path) -> dict:
    config = LiveConfig(
        source=str(clip),
        name="bench",
        realtime=True,
        outputs=OutputConfig(record=out),
        stats_every=3600,
    )
    session = LiveSession(config, load_detector(config.pipeline.detector))
    started = time.monotonic()
    session.start()
    session.wait()
    elapsed = time.monotonic() - started
    snap = session.snapshot()
    snap["elapsed_s"] = elapsed
    return snap


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--sizes", nargs="+", default=["1280x720", "1920x1080"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="bench-live-"))
    work.mkdir(parents=True, exist_ok=True)
    frames = round(args.seconds * FPS)
    rows, leaks = [], []
    for size in args.sizes:
        width, height = (int(v) for v in size.split("x"))
        clip = work / f"clip_{height}p.mp4"
        print(f"generating {clip.name} ({frames} frames)...", file=sys.stderr)
        boxes = make_sample_video(
            clip, width, height, frames=frames, fps=FPS, faces=faces_for(width), audio=False
        )
        live_out = work / f"live_{height}p.mp4"
        snap = run_live(clip, live_out)
        out_frames, times = decode(live_out)
        sustained = snap["frames_out"] / (times[-1] - times[0] + 1 / FPS)
        rows.append(
            (
                f"{width}x{height}@{FPS}",
                f"{snap['frames_in']}",
                f"{snap['frames_out']}",
                f"{sustained:.1f}",
                f"{snap['dropped_frames']}",
                f"{snap['inference_ms']['p50']:.0f}/{snap['inference_ms']['p95']:.0f}",
                f"{snap['detection_latency_ms']['p50']:.0f}/"
                f"{snap['detection_latency_ms']['p95']:.0f}",
                f"{snap['latency_ms']['p50']:.0f}/{snap['latency_ms']['p95']:.0f}",
            )
        )
        original, _ = decode(clip)
        index = [min(frames - 1, round((t - times[0]) * FPS)) for t in times]
        live_leak = leak_rate(original, boxes, out_frames, index)
        offline_out = work / f"offline_{height}p.mp4"
        subprocess.run(
            [sys.executable, "-m", "veil", "combined", str(clip), "-o", str(offline_out),
             "--quiet"],
            check=True,
        )  # fmt: skip
        offline_frames, _ = decode(offline_out)
        offline_leak = leak_rate(original, boxes, offline_frames, list(range(len(offline_frames))))
        leaks.append((f"{width}x{height}", live_leak, offline_leak))

    print("\n| source | frames in | out | sustained fps | dropped | detector ms p50/p95 "
          "| detection latency ms p50/p95 | end-to-end ms p50/p95 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\n| clip | live leak rate | longest live run | offline leak rate | face-frames |")
    print("|---|---|---|---|---|")
    for name, live, offline in leaks:
        print(
            f"| {name} | {live.rate:.2%} ({live.leaked}) | {live.longest_run} "
            f"| {offline.rate:.2%} ({offline.leaked}) | {live.face_frames} |"
        )
    print(f"\n(files in {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
