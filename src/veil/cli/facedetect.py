"""``veil detect``: Azure Media Face Detector's outputs, from the redaction's face tracks.

Exit codes: 0 all inputs done, 2 a user error (bad option or preset: before any
input is read; a bad input: one line on stderr, the other inputs still run).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from veil.cli.batch import each_input
from veil.cli.inputs import expand_inputs
from veil.cli.redaction import add_common_options, add_detection_options, pipeline_config
from veil.detect import FaceDetector, load_detector
from veil.emotion import EmotionModel
from veil.errors import VeilError
from veil.facedetect import (
    AggregateSettings,
    FaceDetectConfig,
    FaceDetectMode,
    FaceDetectorPreset,
    FaceDetectResult,
    Summary,
    detect_faces,
    output_name,
    read_face_detector_preset,
    write_csv,
    write_json,
    write_plot,
)
from veil.facedetect.settings import (
    DEFAULT_INTERVAL_MS,
    DEFAULT_WINDOW_MS,
    INTERVAL_RANGE_MS,
    WINDOW_RANGE_MS,
)
from veil.names import emotions_plot_name
from veil.pipeline.profiles import FACE_DETECTOR_QUALITY
from veil.pipeline.run import refuse_overwriting_input
from veil.preset import Preset

log = logging.getLogger("veil")

_SHOWN_FACES = 8


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``detect`` to the ``veil`` command."""
    p = sub.add_parser(
        "detect",
        help="who is on screen and when, with emotions: Azure Face Detector JSON",
        description="Track faces as 'veil analyze' does and write Azure Media Face "
        "Detector's JSON: face boxes per frame, emotion scores per face, or emotions "
        "aggregated over time windows. --preset takes a Face Detector preset here.",
    )
    add_common_options(p, preset_help="an Azure Media Face Detector preset JSON")
    group = p.add_argument_group("face detector output")
    group.add_argument(
        "--mode",
        choices=[m.value for m in FaceDetectMode],
        default=None,
        help="faces: boxes and IDs; per-face-emotion: also emotion scores per face; "
        "aggregate-emotion: emotions of all faces per time window (default: the "
        "preset's mode, else faces)",
    )
    group.add_argument(
        "--window-ms",
        type=float,
        default=None,
        metavar="MS",
        help=f"aggregate-emotion: length of each window, {WINDOW_RANGE_MS[0]}-"
        f"{WINDOW_RANGE_MS[1]} ms, at least the interval (default: {DEFAULT_WINDOW_MS})",
    )
    group.add_argument(
        "--interval-ms",
        type=float,
        default=None,
        metavar="MS",
        help=f"aggregate-emotion: time between results, {INTERVAL_RANGE_MS[0]}-"
        f"{INTERVAL_RANGE_MS[1]} ms (default: {DEFAULT_INTERVAL_MS})",
    )
    group.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT",
        help="JSON file, or folder for several inputs (<stem>_faces.json, "
        "<stem>_perfaceemotion.json or <stem>_aggregateemotion.json); default: beside each input",
    )
    group.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="also write one CSV row per face ID of every input: frames, first and last "
        "seconds on screen, screen time, mean emotion scores",
    )
    group.add_argument(
        "--plot",
        type=Path,
        metavar="IMAGE",
        help="also draw emotions over time as a PNG (a folder for several inputs: "
        "<stem>_emotions.png)",
    )
    add_detection_options(p, quality=FACE_DETECTOR_QUALITY)
    p.set_defaults(handler=run)


def face_detect_config(args: argparse.Namespace, preset: FaceDetectorPreset) -> FaceDetectConfig:
    """Options win over the preset; a preset whose mode contradicts ``--mode`` is refused."""
    mode = FaceDetectMode(args.mode) if args.mode is not None else None
    if mode is not None and preset.mode is not None and mode is not preset.mode:
        raise VeilError(
            f"{args.preset}: preset mode is {preset.mode.azure_name!r} but --mode is "
            f"{mode.value!r}; drop one of them"
        )
    mode = mode or preset.mode or FaceDetectMode.FACES
    window = args.window_ms if args.window_ms is not None else preset.window_ms
    interval = args.interval_ms if args.interval_ms is not None else preset.interval_ms
    aggregate = AggregateSettings(
        window_ms=DEFAULT_WINDOW_MS if window is None else window,
        interval_ms=DEFAULT_INTERVAL_MS if interval is None else interval,
    )
    asked = window is not None or interval is not None
    if asked and mode is not FaceDetectMode.AGGREGATE_EMOTION and args.plot is None:
        log.warning("the aggregate window and interval only apply to aggregate-emotion and --plot")
    return FaceDetectConfig(
        mode=mode,
        pipeline=pipeline_config(args, Preset(), FACE_DETECTOR_QUALITY),
        aggregate=aggregate,
        emotions=args.plot is not None,
    )


def _per_input(path: Path | None, src: Path, name: str, many: bool) -> Path:
    if path is None:
        return src.parent / name
    if many or path.is_dir() or not path.suffix:
        return path / name
    return path


def _describe(result: FaceDetectResult) -> str:
    faces = result.summary.per_face
    parts = []
    for face in faces[:_SHOWN_FACES]:
        text = f"#{face.face_id} {face.screen_seconds:.2f} s"
        if face.dominant_emotion is not None:
            text += f" {face.dominant_emotion}"
        parts.append(text)
    if len(faces) > _SHOWN_FACES:
        parts.append(f"{len(faces) - _SHOWN_FACES} more")
    listed = ": " + ", ".join(parts) if parts else ""
    return f"({result.frames} frames, {len(faces)} faces{listed})"


def run(args: argparse.Namespace) -> int:
    preset = (
        read_face_detector_preset(args.preset) if args.preset is not None else FaceDetectorPreset()
    )
    config = face_detect_config(args, preset)
    detector_config = config.pipeline.detector
    inputs = expand_inputs(args.inputs)
    many = len(inputs) > 1 or any(p.is_dir() for p in args.inputs)
    detectors: list[FaceDetector] = []
    models: list[EmotionModel] = []

    def detector() -> FaceDetector:
        if not detectors:
            detectors.append(load_detector(detector_config))
        return detectors[0]

    def emotion_model() -> EmotionModel:
        if not models:
            models.append(EmotionModel(device=detector_config.device))
        return models[0]

    def job(src: Path, on_frame: Callable[[int], None]) -> FaceDetectResult:
        json_path = _per_input(args.output, src, output_name(src, config.mode), many)
        refuse_overwriting_input(src, json_path)
        result = detect_faces(src, detector(), emotion_model, config, on_frame)
        write_json(result, json_path)
        result.outputs.append(json_path)
        if args.plot is not None:
            plot_path = _per_input(args.plot, src, emotions_plot_name(src.stem), many)
            write_plot(result, plot_path)
            result.outputs.append(plot_path)
        return result

    results: list[dict] = []
    summaries: list[tuple[str, Summary]] = []
    failures = 0
    passes = 2 if config.needs_emotions else 1
    for src, result, error in each_input(inputs, job, args.quiet, "analysed", passes):
        if result is None:
            failures += 1
            results.append({"input": str(src), "error": error})
            continue
        summaries.append((str(src), result.summary))
        results.append(result.to_json())
        if not args.json and not args.quiet:
            print(f"{result.outputs[0]}  {_describe(result)}")
    if args.csv is not None and summaries:
        write_csv(summaries, args.csv)
        if not args.json and not args.quiet:
            print(args.csv)
    if args.json:
        out: dict = {"command": "detect", "results": results}
        if args.csv is not None and summaries:
            out["csv"] = str(args.csv)
        json.dump(out, sys.stdout, indent=2)
        print()
    return 2 if failures else 0
