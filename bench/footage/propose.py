"""Machine proposals for the footage labels: both of veil's detectors, searched hard.

Every frame of a clip is searched by RetinaFace and by CenterFace separately
(full resolution, frames of 480 px or less enlarged 2x, low threshold); the raw
boxes of each model are kept per frame in ``out/footage/proposals/<clip>.json``
so that linking (``bench/footage/link.py``) and sheets can be redone without
searching again.

Usage: python -m bench.footage.propose CLIP [CLIP ...] [--every N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from veil.detect import DetectorConfig, load_detector
from veil.media import read_frames

ROOT = Path(__file__).resolve().parents[2]
VIDEOS = ROOT.parent / "shared" / "data" / "videos"
PROPOSALS = ROOT / "out" / "footage" / "proposals"
THRESHOLD = 0.25


def clip_key(clip: str) -> str:
    """A clip's file name stem: real/asl_again.mkv -> asl_again."""
    return Path(clip).stem


def propose(clip: str, every: int = 1) -> dict:
    detectors = {
        name: load_detector(DetectorConfig(name=name, threshold=THRESHOLD, input_size=0))
        for name in ("retinaface", "centerface")
    }
    frames = []
    start = time.perf_counter()
    for frame in read_frames(VIDEOS / clip):
        rgb = frame.rgb
        row: dict = {"time": float(frame.time)}
        if frame.index % every == 0:
            upscale = 2.0 if max(rgb.shape[:2]) <= 480 else 1.0
            for name, detector in detectors.items():
                found = detector.detect(rgb, upscale=upscale)
                row[name] = [
                    [*(round(float(v), 1) for v in box), round(float(s), 3)]
                    for box, s in zip(found.xyxy, found.score, strict=True)
                ]
        frames.append(row)
        height, width = rgb.shape[:2]
    print(f"{clip}: {len(frames)} frames, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return {"clip": clip, "width": width, "height": height, "every": every, "frames": frames}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clips", nargs="+")
    parser.add_argument("--every", type=int, default=1)
    args = parser.parse_args(argv)
    PROPOSALS.mkdir(parents=True, exist_ok=True)
    for clip in args.clips:
        target = PROPOSALS / f"{clip_key(clip)}.json"
        if target.is_file():
            continue
        target.write_text(json.dumps(propose(clip, args.every)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
