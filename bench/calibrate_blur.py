"""What each blur type leaves of a covered face, by face size: how their strengths were set.

Usage:
    python bench/calibrate_blur.py [--data ../shared/data] [--zoom 1.5]
        [--sigma F ...] [--blocks N ...]

On every photo of ``DATA/images/wider-dev`` (enlarged ``--zoom`` times, as the
real-faces evaluation's camera enlarges them), RetinaFace finds faces at the
default settings; each labelled face that a detection matches (IoU >= 0.5) is
a *covered* face. Each blur type is applied to the detections, and the table
gives the share of covered faces whose box still matches the original by the
evaluation's leak verdict (48x48 contrast-normalised SSIM >= 0.6), overall
and by face size (the labelled box's larger side), and the median SSIM: what
the blur leaves. Faces that no detection matches are the detector's misses,
not the blur's, and are left out. ``--sigma`` adds Gaussian blurs of that
fraction of the face, ``--blocks`` pixelations of that many blocks across it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from evaluation.metrics import LEAK_SSIM, MIN_FACE, face_similarity
from veil.detect import DetectorConfig, load_detector
from veil.geometry import box_iou
from veil.redact import RedactionConfig, redact_frame
from veil.settings import BlurType
from veil.types import FaceBox

ROOT = Path(__file__).resolve().parent.parent
BUCKETS = ((0.0, 16.0), (16.0, 24.0), (24.0, 48.0), (48.0, float("inf")))
MATCH_IOU = 0.5


def covered_faces(folder: Path, zoom: float):
    """(image, labelled boxes matched by a detection, detections) per photo."""
    detector = load_detector(DetectorConfig())
    for entry in json.loads((folder / "manifest.json").read_text(encoding="utf-8")):
        bgr = cv2.imread(str(folder / entry["image"]))
        rgb = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), None, fx=zoom, fy=zoom)
        truth = np.array(
            [[x, y, x + w, y + h] for x, y, w, h in entry["boxes"]], np.float32
        ).reshape(-1, 4)
        truth *= zoom
        truth = truth[np.minimum(truth[:, 2] - truth[:, 0], truth[:, 3] - truth[:, 1]) >= MIN_FACE]
        found = detector.detect(rgb)
        if len(truth) == 0 or len(found) == 0:
            continue
        matched = truth[box_iou(truth, found.xyxy).max(axis=1) >= MATCH_IOU]
        yield rgb, matched, [FaceBox(i + 1, *map(float, b)) for i, b in enumerate(found.xyxy)]


def _row(name: str, ssim: NDArray[np.float64], sizes: NDArray[np.float64]) -> str:
    cells = [name, f"{100 * (ssim >= LEAK_SSIM).mean():.1f} %"]
    for low, high in BUCKETS:
        inside = (sizes >= low) & (sizes < high)
        cells.append(f"{100 * (ssim[inside] >= LEAK_SSIM).mean():.1f} %" if inside.any() else "-")
    cells.append(f"{np.median(ssim):.2f}")
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--zoom", type=float, default=1.5)
    parser.add_argument("--sigma", type=float, action="append", default=[])
    parser.add_argument("--blocks", type=float, action="append", default=[])
    args = parser.parse_args(argv)
    folder = args.data / "images" / "wider-dev"
    if not (folder / "manifest.json").is_file():
        print(f"{folder} not found: nothing to calibrate on")
        return 0
    configs = {blur.value: RedactionConfig(blur=blur) for blur in BlurType if blur != BlurType.BOX}
    configs |= {
        f"gaussian 1/{1 / f:.3g}": RedactionConfig(blur=BlurType.MED, strength=f)
        for f in args.sigma
    }
    configs |= {
        f"pixelate {n:g} blocks": RedactionConfig(blur=BlurType.PIXELATE, strength=n)
        for n in args.blocks
    }
    ssim: dict[str, list[float]] = {name: [] for name in configs}
    sizes: list[float] = []
    for rgb, matched, boxes in covered_faces(folder, args.zoom):
        sizes += [float(max(b[2] - b[0], b[3] - b[1])) for b in matched]
        for name, config in configs.items():
            out = redact_frame(rgb, boxes, config)
            ssim[name] += [face_similarity(rgb, out, tuple(map(float, b))) for b in matched]
    size_array = np.array(sizes)
    counts = [int(((size_array >= lo) & (size_array < hi)).sum()) for lo, hi in BUCKETS]
    names = [f"{lo:g}-{hi:g} px" if hi != float("inf") else f">= {lo:g} px" for lo, hi in BUCKETS]
    per_bucket = ", ".join(f"{n}: {c}" for n, c in zip(names, counts, strict=True))
    print(f"{len(sizes)} covered faces ({per_bucket})")
    print("| blur | still matching | " + " | ".join(names) + " | median SSIM |")
    print("|" + "---|" * (len(BUCKETS) + 3))
    for name in configs:
        print(_row(name, np.array(ssim[name]), size_array))
    return 0


if __name__ == "__main__":
    sys.exit(main())
