"""``veil analyze | redact | combined``: arguments -> PipelineConfig -> one job per input.

Exit codes: 0 all inputs done, 2 a user error on any input (one line each on
stderr; the other inputs are still processed).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from veil.annotations import read_id_list
from veil.cli.batch import each_input
from veil.cli.inputs import expand_inputs, output_dir, output_file
from veil.detect import DETECTOR_NAMES, RUNTIME_NAMES, DetectorConfig, FaceDetector, load_detector
from veil.distributed import cli as distributed_cli
from veil.errors import VeilError
from veil.media import EncoderSettings
from veil.pipeline import JobResult, PipelineConfig, analyze, annotations_path, combined, redact
from veil.pipeline.faces import SmallFacePass
from veil.preset import Preset, read_preset
from veil.redact import MaskShape, RedactionConfig
from veil.settings import BlurType, Mode
from veil.track import TrackerConfig

log = logging.getLogger("veil")

# Azure's analysis resolutions, as the detector's input size
_RESOLUTION_INPUT_SIZE = {"SourceResolution": 0, "StandardDefinition": 640}


def add_common_options(
    parser: argparse.ArgumentParser,
    preset_help: str = "an Azure Media Redactor preset JSON (v1 or v3 form)",
) -> None:
    parser.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="videos, images, or folders of them"
    )
    parser.add_argument(
        "--preset",
        type=Path,
        metavar="FILE",
        help=preset_help,
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no warnings")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a machine-readable summary of every input on stdout",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and details")
    parser.add_argument(
        "--hwaccel",
        metavar="DEVICE",
        help="decode videos on this hardware device, e.g. cuda (NVDEC); default: in software",
    )


def add_detection_options(parser: argparse.ArgumentParser, live: bool = False) -> None:
    """The detector and tracker options; ``live`` leaves out those of whole-file runs."""
    group = parser.add_argument_group("detection")
    defaults = DetectorConfig()
    group.add_argument(
        "--detector",
        choices=DETECTOR_NAMES,
        default=defaults.name,
        help="face detection model (default: %(default)s)",
    )
    group.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="minimum face confidence; lower finds more faces and more false "
        "alarms (default: the detector's)",
    )
    group.add_argument(
        "--detect-size",
        type=int,
        default=defaults.input_size,
        metavar="PX",
        help="longest side of the frame the detector sees; larger finds smaller "
        "faces, slower; 0 = full resolution (default: %(default)s)",
    )
    group.add_argument(
        "--upscale",
        type=float,
        default=defaults.upscale,
        help="also search the full frame enlarged by this factor on every detection "
        "frame, to reach faces down to about 12 px (slow; see --small-faces); "
        "1 = off (default: %(default)s)",
    )
    group.add_argument(
        "--device",
        choices=("cpu", "cuda", "auto"),
        default=defaults.device,
        help="where the detector runs (default: %(default)s)",
    )
    group.add_argument(
        "--runtime",
        choices=RUNTIME_NAMES,
        default=defaults.runtime,
        help="what runs the detector on the CPU; auto = the faster of onnxruntime and "
        "OpenVINO for the same detections, checked once and cached (default: %(default)s)",
    )
    if not live:
        small = SmallFacePass()
        group.add_argument(
            "--small-faces",
            type=float,
            default=small.upscale,
            metavar="FACTOR",
            help="every so often, also search the frame enlarged this much for faces "
            "under about 24 px (found faces are then followed frame by frame); "
            "1 = off (default: %(default)s)",
        )
        group.add_argument(
            "--small-faces-every",
            type=int,
            default=small.every,
            metavar="FRAMES",
            help="frames between two enlarged searches; 0 = as far apart as the "
            "backward search reaches (default: %(default)s)",
        )
    group.add_argument(
        "--threads",
        type=int,
        default=defaults.threads,
        metavar="N",
        help="CPU threads for the detector; 0 = every core (default: %(default)s)",
    )
    group.add_argument(
        "--detect-every",
        type=int,
        # live detects on the newest frame whenever the detector is free
        default=1 if live else PipelineConfig().detect_every,
        metavar="N",
        help="run the detector on every N-th frame and track in between; faster, "
        "but a face is found up to N-1 frames late (covered by padding) "
        "(default: %(default)s)",
    )
    tracking = parser.add_argument_group("tracking")
    tdefaults = TrackerConfig()
    tracking.add_argument(
        "--max-gap",
        type=int,
        default=tdefaults.max_gap,
        metavar="FRAMES",
        help="frames a face may go undetected and stay blurred and keep its "
        "ID (default: %(default)s)",
    )
    tracking.add_argument(
        "--pad-frames",
        type=int,
        default=tdefaults.pad_frames,
        metavar="FRAMES",
        help="blur this many frames before a face is first "
        "and after it is last detected (default: %(default)s)",
    )


def add_redaction_options(
    parser: argparse.ArgumentParser, encoder: EncoderSettings = EncoderSettings()
) -> None:
    """--blur, --mask, --mask-scale, and the encoder options with ``encoder``'s defaults."""
    group = parser.add_argument_group("redaction")
    rdefaults = RedactionConfig()
    group.add_argument(
        "--blur",
        type=BlurType,
        choices=list(BlurType),
        default=None,
        help=f"how faces are hidden (default: {rdefaults.blur}); "
        "box draws an outline only, for review",
    )
    group.add_argument(
        "--mask",
        type=MaskShape,
        choices=list(MaskShape),
        default=rdefaults.mask,
        help="shape of the hidden area (default: %(default)s)",
    )
    group.add_argument(
        "--mask-scale",
        type=float,
        default=rdefaults.mask_scale,
        help="grow each face box by this factor first (default: %(default)s)",
    )
    encoding = parser.add_argument_group("video output")
    edefaults = encoder
    encoding.add_argument(
        "--codec",
        default=edefaults.codec,
        help="video encoder, e.g. libx264, libx265, h264_nvenc (default: %(default)s)",
    )
    encoding.add_argument(
        "--crf",
        type=int,
        default=edefaults.crf,
        help="quality, lower is better and larger (default: %(default)s)",
    )
    encoding.add_argument(
        "--encoder-preset",
        default=edefaults.preset,
        help="encoder speed/size trade-off, e.g. ultrafast..veryslow (default: %(default)s)",
    )
    encoding.add_argument(
        "--pix-fmt",
        default=edefaults.pixel_format,
        help="pixel format; yuv444p keeps odd frame sizes exact (default: %(default)s)",
    )


_REDACTED_OUTPUT = "output file, or folder for several inputs (<stem>_redacted.mp4)"


def _output(parser: argparse.ArgumentParser, metavar: str, what: str) -> None:
    parser.add_argument(
        "-o", "--output", type=Path, metavar=metavar, help=f"{what}; default: beside each input"
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``analyze``, ``redact`` and ``combined`` to the ``veil`` command."""

    p = sub.add_parser("analyze", help="find and track faces: annotations JSON + thumbnails")
    add_common_options(p)
    add_detection_options(p)
    _output(p, "DIR", "folder for <stem>_annotations.json and <stem>_thumbNNNNNN.jpg")

    p = sub.add_parser("redact", help="hide the faces of an annotations file")
    add_common_options(p)
    p.add_argument(
        "--annotations",
        type=Path,
        required=True,
        metavar="FILE|DIR",
        help="annotations JSON (veil's or Azure's, edited or not); a folder holds "
        "<stem>_annotations.json for each input",
    )
    p.add_argument(
        "--ids",
        type=Path,
        metavar="LIST",
        help="file of face IDs to hide, one per line (empty file: all faces)",
    )
    add_redaction_options(p)
    _output(p, "OUT", _REDACTED_OUTPUT)

    p = sub.add_parser("combined", help="find and hide all faces in one command")
    add_common_options(p)
    add_detection_options(p)
    add_redaction_options(p)
    _output(p, "OUT", _REDACTED_OUTPUT)
    p.add_argument(
        "--annotations-out",
        action="store_true",
        help="also write <stem>_annotations.json beside the output",
    )
    distributed_cli.add_options(p)
    for name in ("analyze", "redact", "combined"):
        sub.choices[name].set_defaults(handler=run)


def _preset(args: argparse.Namespace) -> Preset:
    if args.preset is None:
        return Preset()
    preset = read_preset(args.preset)
    if preset.mode is not None and preset.mode != Mode(args.command):
        raise VeilError(
            f"{args.preset}: preset mode is {preset.mode.value!r} but the command is "
            f"{args.command!r}; run 'veil {preset.mode.value}' with this preset"
        )
    return preset


def pipeline_config(args: argparse.Namespace, preset: Preset) -> PipelineConfig:
    config = PipelineConfig(hwaccel=getattr(args, "hwaccel", None))
    if hasattr(args, "detector"):
        detector = DetectorConfig(
            name=args.detector,
            input_size=args.detect_size,
            upscale=args.upscale,
            device=args.device,
            runtime=args.runtime,
            threads=args.threads,
        )
        if args.threads < 0:
            raise VeilError("--threads must be 0 (every core) or more")
        if args.threshold is not None:
            detector = replace(detector, threshold=args.threshold)
        if preset.resolution is not None and args.detect_size == DetectorConfig().input_size:
            detector = replace(detector, input_size=_RESOLUTION_INPUT_SIZE[preset.resolution])
        tracker = TrackerConfig(max_gap=args.max_gap, pad_frames=args.pad_frames)
        if args.detect_every < 1:
            raise VeilError("--detect-every must be 1 or more")
        config = replace(config, detector=detector, tracker=tracker, detect_every=args.detect_every)
    if hasattr(args, "small_faces"):
        if args.small_faces < 1 or args.small_faces_every < 0:
            raise VeilError("--small-faces must be 1 (off) or more, --small-faces-every 0 or more")
        config = replace(
            config, small_faces=SmallFacePass(args.small_faces, args.small_faces_every)
        )
    if hasattr(args, "blur"):
        blur = args.blur or preset.blur_type or RedactionConfig().blur
        config = replace(
            config,
            redaction=RedactionConfig(blur=blur, mask=args.mask, mask_scale=args.mask_scale),
            encoder=EncoderSettings(
                codec=args.codec,
                crf=args.crf,
                preset=args.encoder_preset,
                pixel_format=args.pix_fmt,
            ),
        )
    return config


def _job(
    args: argparse.Namespace,
    config: PipelineConfig,
    detector: Callable[[], FaceDetector],
    src: Path,
    many: bool,
    on_frame: Callable[[int], None],
) -> JobResult:
    if args.command == "analyze":
        return analyze(src, output_dir(src, args.output), detector(), config, on_frame)
    dst = output_file(src, args.output, many, config.redaction.blur == BlurType.BOX)
    if args.command == "combined":
        ann_out = annotations_path(dst.parent, src.stem) if args.annotations_out else None
        if args.executor is not None:  # segment-parallel (veil.distributed)
            return distributed_cli.run_combined(args, config, src, dst, ann_out, on_frame)
        return combined(src, dst, detector(), config, ann_out, on_frame)
    ann = args.annotations
    if ann.is_dir():
        ann = annotations_path(ann, src.stem)
    ids = read_id_list(args.ids) if args.ids is not None else None
    return redact(src, dst, ann, ids, config, on_frame)


def run(args: argparse.Namespace) -> int:
    preset = _preset(args)
    config = pipeline_config(args, preset)
    inputs = expand_inputs(args.inputs)
    many = len(inputs) > 1 or any(p.is_dir() for p in args.inputs)
    loaded: list[FaceDetector] = []

    def detector() -> FaceDetector:
        # built once, on first use, so bad-input errors come before model loading
        if not loaded:
            loaded.append(load_detector(config.detector))
        return loaded[0]

    results, failures = [], 0
    for src, result, error in each_input(
        inputs,
        lambda src, progress: _job(args, config, detector, src, many, progress),
        args.quiet,
        "redacted",
    ):
        if result is None:
            failures += 1
            results.append({"input": str(src), "error": error})
            continue
        results.append(result.to_json())
        if not args.json and not args.quiet:
            print(
                ", ".join(str(p) for p in result.outputs[:1])
                + f"  ({result.frames} frames, {len(result.face_ids)} faces)"
            )
    if args.json:
        json.dump({"command": args.command, "results": results}, sys.stdout, indent=2)
        print()
    return 2 if failures else 0
