"""Quick label-free proxies of precision on the shared real clips.

For each clip: the final IDs, the frames each covers, the share of the frame
under masks (boxes' union, as ellipses: pi/4 of each box), per ID its mean
box and score. Clips with no face should give no ID; the one-person sign
language clips exactly one, on the face.

    .venv/bin/python bench/precision_proxy.py [--quality balanced] [clips...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from veil.detect import load_detector
from veil.media import DecodeReport, probe, read_pictures
from veil.media.orientation import upright_size
from veil.pipeline.faces import FaceFinder
from veil.pipeline.options import RunOptions, build_config
from veil.settings import Quality

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos" / "real"
DEFAULT_CLIPS = ["car-detection.mp4", "bottle-detection.mp4"] + [
    f"asl_{w}.mkv"
    for w in ("again", "book", "brother", "help", "night", "sister", "thanks", "want")
]


def measure(path: Path, quality: Quality, **changes) -> dict:
    config = replace(build_config(RunOptions(quality=quality)), **changes)
    detector = load_detector(config.detector)
    info = probe(path)
    width, height = upright_size(info.width, info.height, info.rotation)
    finder = FaceFinder(detector, config, info)
    per_id: dict[int, list] = {}
    shares = []
    frames = 0
    start = time.perf_counter()

    def take(settled):
        nonlocal frames
        for s in settled:
            frames += 1
            mask = np.zeros((height // 4 + 1, width // 4 + 1), bool)
            for f in s.faces:
                x0, y0, x1, y1 = (int(max(v, 0) / 4) for v in f.xyxy)
                mask[y0 : y1 + 1, x0 : x1 + 1] = True
                per_id.setdefault(f.track_id, []).append(
                    (s.picture.index, f.xyxy, f.score, f.detected)
                )
            shares.append(mask.mean() * np.pi / 4)

    for picture in read_pictures(path, DecodeReport()):
        take(finder.push(picture))
    take(finder.flush())
    seconds = time.perf_counter() - start
    identities = finder.identities()
    final: dict[int, list] = {}
    for tid, rows in per_id.items():
        final.setdefault(identities.of(tid), []).extend(rows)
    low = {a.face_id for a in identities.assessments if a.low_confidence}
    ids = []
    for fid, rows in sorted(final.items()):
        boxes = np.array([r[1] for r in rows])
        scores = [r[2] for r in rows if r[3]]
        ids.append(
            {
                "id": fid,
                "frames": len({r[0] for r in rows}),
                "first": min(r[0] for r in rows),
                "box": [round(float(v)) for v in boxes.mean(axis=0)],
                "score": round(float(np.max(scores)) if scores else 0.0, 2),
                "low": fid in low,
            }
        )
    return {
        "clip": path.name,
        "frames": frames,
        "ids": len(final),
        "shown_ids": sum(1 for i in ids if not i["low"]),
        "blurred_pct": round(100 * float(np.mean(shares)) if shares else 0.0, 3),
        "fps": round(frames / seconds, 1),
        "per_id": ids,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clips", nargs="*", default=DEFAULT_CLIPS)
    parser.add_argument("--quality", default="balanced")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--compare", action="store_true", help="also each clip without the second opinion, first"
    )
    args = parser.parse_args()
    results = []
    runs = [("", {})]
    if args.compare:
        runs.insert(0, ("no second opinion ", {"second_opinion": False}))
    for name in args.clips:
        for label, changes in runs:
            result = measure(REAL / name, Quality(args.quality), **changes)
            result["clip"] = label + result["clip"]
            results.append(result)
            print(
                f"{result['clip']:40s} frames {result['frames']:5d} ids {result['ids']:3d} "
                f"(shown {result['shown_ids']}) blurred {result['blurred_pct']:6.3f} %"
                f" fps {result['fps']}",
                flush=True,
            )
            for i in result["per_id"]:
                print("    ", i)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
