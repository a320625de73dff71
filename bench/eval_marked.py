"""Marked objects: on what share of the frames an object is on does its tracked box cover it?

Labels: bench/labels/marked_objects.json (keyframes by hand, linear between).
A frame is covered when the hidden rectangle (the tracked box grown as the
render grows it) covers >= 90 % of the labelled box's part inside the frame.
Corrections: marks beyond the first, per 10 s of video.

    nice -n 10 .venv/bin/python bench/eval_marked.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

from veil.media import probe
from veil.objects import parse_mark
from veil.pipeline.objects import follow_marked, region_redaction, with_margin
from veil.redact import RedactionConfig
from veil.redact.effects import mask_extent
from veil.types import FaceBox

LABELS = Path(__file__).with_name("labels") / "marked_objects.json"
COVERED = 0.9


def labelled_boxes(keyframes: dict[str, list[float]]) -> dict[int, tuple[float, ...]]:
    """Every frame from the first keyframe to the last, boxes (x0, y0, x1, y1) interpolated."""
    keys = sorted((int(k), v) for k, v in keyframes.items())
    boxes = {}
    for (f0, b0), (f1, b1) in itertools.pairwise(keys):
        for f in range(f0, f1 + 1):
            t = (f - f0) / (f1 - f0)
            x, y, w, h = (a + (b - a) * t for a, b in zip(b0, b1, strict=True))
            boxes[f] = (x, y, x + w, y + h)
    return boxes


def covered_share(hidden: tuple[float, ...], label: tuple[float, ...], width: int, height: int):
    lx0, ly0 = max(label[0], 0), max(label[1], 0)
    lx1, ly1 = min(label[2], width), min(label[3], height)
    area = max(lx1 - lx0, 0) * max(ly1 - ly0, 0)
    if area == 0:
        return 1.0
    w = max(0.0, min(hidden[2], lx1) - max(hidden[0], lx0))
    h = max(0.0, min(hidden[3], ly1) - max(hidden[1], ly0))
    return w * h / area


def evaluate(obj: dict, data: Path, run: int) -> dict:
    path = data / obj["video"]
    info = probe(path)
    marks = [parse_mark(m) for m in obj["marks"]]
    started = time.perf_counter()
    regions = follow_marked(path, info, marks)
    seconds = time.perf_counter() - started
    shape = region_redaction(RedactionConfig())
    labels = labelled_boxes(obj["keyframes"])
    track = regions.tracks[0].boxes if regions.tracks else {}
    covered = 0
    for frame, label in labels.items():
        box = track.get(frame)
        if box is not None:
            grown = with_margin([FaceBox(0, *box)], info.width, info.height)[0]
            hidden = mask_extent(grown.x0, grown.y0, grown.x1, grown.y1, shape)
            covered += covered_share(hidden, label, info.width, info.height) >= COVERED
    tracked_off_label = sum(1 for f in track if f not in labels)
    duration = float(info.duration)
    return {
        "object": obj["name"],
        "run": run,
        "video": obj["video"],
        "frames_on": len(labels),
        "covered": covered,
        "covered_share": round(covered / len(labels), 4),
        "frames_tracked_without_object": tracked_off_label,
        "corrections": len(marks) - 1,
        "corrections_per_10s": round((len(marks) - 1) / duration * 10, 2),
        "seconds": round(seconds, 1),
        "frames_decoded": len(regions.times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument(
        "--runs", type=int, default=3, help="runs of each object (MIL is not deterministic)"
    )
    args = parser.parse_args()
    objects = json.loads(args.labels.read_text())["objects"]
    results = [evaluate(obj, args.data, run) for run in range(args.runs) for obj in objects]
    for r in results:
        print(
            f"{r['object']:14} run {r['run']}: {r['covered']}/{r['frames_on']} frames covered "
            f"({100 * r['covered_share']:.1f} %), {r['corrections']} corrections, "
            f"{r['frames_tracked_without_object']} frames tracked past the object, "
            f"{r['seconds']} s for {r['frames_decoded']} frames",
            file=sys.stderr,
        )
    on = sum(r["frames_on"] for r in results)
    covered = sum(r["covered"] for r in results)
    print(f"all: {covered}/{on} ({100 * covered / on:.1f} %)", file=sys.stderr)
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
