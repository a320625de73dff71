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
from functools import partial
from pathlib import Path

from veil.annotations import read_id_list
from veil.cli import audio_options
from veil.cli.audio_options import add_audio_options, add_speech_options
from veil.cli.batch import each_input
from veil.cli.inputs import expand_inputs, output_dir, output_file
from veil.cli.object_options import add_object_options, region_request
from veil.cli.parallel import add_parallel_options, parallel_options
from veil.detect import DETECTOR_NAMES, RUNTIME_NAMES, FaceDetector, load_detector
from veil.distributed.parallel import run_combined
from veil.errors import VeilError
from veil.media import EncoderSettings
from veil.pipeline import JobResult, PipelineConfig, annotations_path
from veil.pipeline.jobs import JobSpec, Segmented, run_job
from veil.pipeline.objects import RegionRequest
from veil.pipeline.options import DEVICES, RunOptions, build_config
from veil.pipeline.profiles import DEFAULT_QUALITY, profile
from veil.preset import Preset, read_preset
from veil.redact import DEFAULT_MASK_SCALE, MaskShape
from veil.settings import BlurType, Mode, Quality

log = logging.getLogger("veil")


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


# The default profile's settings, for the help texts.
_DEFAULTS = profile(DEFAULT_QUALITY)


def _default(value: object) -> str:
    """A help text's default: the option's value in the default --quality profile."""
    return f"(default: {value}, from --quality {DEFAULT_QUALITY})"


def _detect_every_option(group: argparse._ArgumentGroup, live: bool) -> None:
    group.add_argument(
        "--detect-every",
        type=int,
        # live detects on the newest frame whenever the detector is free
        default=1 if live else None,
        metavar="N",
        help="run the detector on every N-th frame and track in between; faster, "
        "but a face is found up to N-1 frames late (covered by padding) "
        + ("(default: 1)" if live else _default(_DEFAULTS.detect_every)),
    )


def _small_face_options(group: argparse._ArgumentGroup) -> None:
    small = _DEFAULTS.small_faces
    group.add_argument(
        "--small-faces",
        type=float,
        metavar="FACTOR",
        help="every so often, also search the frame enlarged this much for faces "
        "under about 24 px (found faces are then followed frame by frame); "
        "1 = off " + _default(small.upscale),
    )
    group.add_argument(
        "--small-faces-every",
        type=int,
        metavar="FRAMES",
        help="frames between two enlarged searches; 0 = as far apart as the "
        "backward search reaches " + _default(small.every),
    )


def _weak_face_options(group: argparse._ArgumentGroup) -> None:
    weak = _DEFAULTS.recurrence
    group.add_argument(
        "--weak-faces",
        type=int,
        metavar="FRAMES",
        help="a face the detector scores below its threshold but finds at the same "
        "place on this many detection frames running is blurred too; 0 = never "
        + _default(weak.frames),
    )
    group.add_argument(
        "--weak-threshold",
        type=float,
        help="the weakest score --weak-faces counts " + _default(weak.threshold),
    )


def _tracking_options(parser: argparse.ArgumentParser) -> None:
    tracking = parser.add_argument_group("tracking")
    tracker = _DEFAULTS.tracker
    tracking.add_argument(
        "--max-gap",
        type=int,
        metavar="FRAMES",
        help="frames a face may go undetected and stay blurred and keep its ID "
        + _default(tracker.max_gap),
    )
    tracking.add_argument(
        "--pad-frames",
        type=int,
        metavar="FRAMES",
        help="blur this many frames before a face is first and after it is last detected "
        + _default(tracker.pad_frames),
    )


def add_detection_options(
    parser: argparse.ArgumentParser, live: bool = False, quality: Quality = DEFAULT_QUALITY
) -> None:
    """The detector and tracker options; ``live`` leaves out those of whole-file runs;
    ``quality``: the profile the command uses when --quality is not given.

    Every default is None, "not given": :func:`veil.pipeline.options.build_config`
    fills in the --quality profile's value.
    """
    group = parser.add_argument_group("detection")
    det = _DEFAULTS.detector
    group.add_argument(
        "--quality",
        type=Quality,
        choices=list(Quality),
        help="how hard faces are searched for: fast, balanced or thorough; each sets "
        "the options below, which override it " + f"(default: {quality})",
    )
    group.add_argument(
        "--detector",
        choices=DETECTOR_NAMES,
        help="face detection model; fused runs RetinaFace and CenterFace together "
        + _default(det.name),
    )
    group.add_argument(
        "--mirror",
        action=argparse.BooleanOptionalAction,
        help="also search each frame mirrored (finds some turned faces; twice the cost) "
        + _default(det.mirror),
    )
    group.add_argument(
        "--threshold",
        type=float,
        help="minimum face confidence; lower finds more faces and more false alarms "
        + _default(det.threshold),
    )
    group.add_argument(
        "--detect-size",
        type=int,
        metavar="PX",
        help="longest side of the frame the detector sees; larger finds smaller "
        "faces, slower; 0 = full resolution " + _default(det.input_size),
    )
    group.add_argument(
        "--upscale",
        type=float,
        help="also search the full frame enlarged by this factor on every detection "
        "frame, to reach faces down to about 12 px (slow; see --small-faces); "
        "1 = off " + _default(det.upscale),
    )
    group.add_argument(
        "--device",
        choices=DEVICES,
        help="where the detector runs " + _default(det.device),
    )
    group.add_argument(
        "--runtime",
        choices=RUNTIME_NAMES,
        help="what runs the detector on the CPU; auto = the faster of onnxruntime and "
        "OpenVINO for the same detections, checked once and cached " + _default(det.runtime),
    )
    if not live:
        _small_face_options(group)
    group.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="CPU threads for the detector; 0 = every core " + _default(det.threads),
    )
    _detect_every_option(group, live)
    if not live:
        _weak_face_options(group)
    _tracking_options(parser)


def add_redaction_options(
    parser: argparse.ArgumentParser, encoder: EncoderSettings = EncoderSettings()
) -> None:
    """--blur, --mask, --mask-scale, and the encoder options with ``encoder``'s defaults."""
    group = parser.add_argument_group("redaction")
    red = _DEFAULTS.redaction
    group.add_argument(
        "--blur",
        type=BlurType,
        choices=list(BlurType),
        help=f"how faces are hidden (default: {red.blur}); box draws an outline only, for review",
    )
    group.add_argument(
        "--mask",
        type=MaskShape,
        choices=list(MaskShape),
        help="shape of the hidden area: head (hair, ears and chin too), or an ellipse "
        f"or rectangle around the face box (default: {red.mask})",
    )
    group.add_argument(
        "--mask-scale",
        type=float,
        help="grow the mask by this factor (default: "
        + ", ".join(f"{scale:g} for {shape}" for shape, scale in DEFAULT_MASK_SCALE.items())
        + ")",
    )
    encoding = parser.add_argument_group("video output")
    encoding.add_argument(
        "--codec",
        default=encoder.codec,
        help="video encoder, e.g. libx264, libx265, h264_nvenc (default: %(default)s)",
    )
    encoding.add_argument(
        "--crf",
        type=int,
        default=encoder.crf,
        help="quality, lower is better and larger (default: %(default)s)",
    )
    encoding.add_argument(
        "--encoder-preset",
        default=encoder.preset,
        help="encoder speed/size trade-off, e.g. ultrafast..veryslow (default: %(default)s)",
    )
    encoding.add_argument(
        "--pix-fmt",
        default=encoder.pixel_format,
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
    add_speech_options(p)
    add_object_options(p)
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
    add_audio_options(p)
    add_object_options(p)
    _output(p, "OUT", _REDACTED_OUTPUT)

    p = sub.add_parser("combined", help="find and hide all faces in one command")
    add_common_options(p)
    add_detection_options(p)
    add_redaction_options(p)
    add_audio_options(p)
    add_speech_options(p)
    add_object_options(p)
    _output(p, "OUT", _REDACTED_OUTPUT)
    p.add_argument(
        "--annotations-out",
        action="store_true",
        help="also write <stem>_annotations.json beside the output",
    )
    add_parallel_options(p)
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


def pipeline_config(
    args: argparse.Namespace, preset: Preset, quality: Quality | None = None
) -> PipelineConfig:
    """The run's settings: the options given, over ``preset``, over the --quality profile
    (``quality`` when --quality is not given; the builder's default when that is None)."""
    given = {name: getattr(args, name) for name in RunOptions.names() if hasattr(args, name)}
    if given.get("quality") is None:
        given["quality"] = quality
    return build_config(RunOptions(**given), preset)


def _job(
    args: argparse.Namespace,
    config: PipelineConfig,
    src: Path,
    many: bool,
    regions: RegionRequest | None = None,
) -> JobSpec:
    mode = Mode(args.command)
    if mode == Mode.ANALYZE:
        return JobSpec(mode, src, output_dir(src, args.output), regions=regions)
    dst = output_file(src, args.output, many, config.redaction.blur == BlurType.BOX)
    if mode == Mode.COMBINED:
        ann_out = annotations_path(dst.parent, src.stem) if args.annotations_out else None
        return JobSpec(mode, src, dst, annotations_out=ann_out, regions=regions)
    ann = args.annotations
    if ann.is_dir():
        ann = annotations_path(ann, src.stem)
    ids = read_id_list(args.ids) if args.ids is not None else None
    return JobSpec(mode, src, dst, annotations=ann, ids=ids, regions=regions)


def _run_one(
    args: argparse.Namespace,
    config: PipelineConfig,
    job: JobSpec,
    detector: Callable[[], FaceDetector],
    progress: Callable[[int], None],
    segmented: Segmented | None,
) -> JobResult:
    """``job`` with its speech steps: before the render (combined), after the faces (analyze)."""
    speech = audio_options.speech_options(args)
    heard: list[Path] = []
    if job.mode == Mode.COMBINED:
        config, heard = audio_options.hear_before_render(config, job.src, job.out.parent, speech)
        if segmented is not None and config.audio_spans:
            raise VeilError("audio spans are not applied with --executor; run without it")
    result = run_job(job, config, detector, progress, segmented)
    if job.mode == Mode.ANALYZE:
        return audio_options.hear_after_analysis(result, job.src, job.out, speech)
    result.outputs.extend(heard)
    return result


def run(args: argparse.Namespace) -> int:
    preset = _preset(args)
    config = pipeline_config(args, preset)
    regions = region_request(args, preset.redact)
    inputs = expand_inputs(args.inputs)
    many = len(inputs) > 1 or any(p.is_dir() for p in args.inputs)
    loaded: list[FaceDetector] = []

    def detector() -> FaceDetector:
        # built once, on first use, so bad-input errors come before model loading
        if not loaded:
            loaded.append(load_detector(config.detector))
        return loaded[0]

    parallel = parallel_options(args) if args.command == Mode.COMBINED else None
    # segment-parallel (veil.distributed)
    segmented = partial(run_combined, parallel) if parallel is not None else None
    results, failures = [], 0
    for src, result, error in each_input(
        inputs,
        lambda src, progress: _run_one(
            args, config, _job(args, config, src, many, regions), detector, progress, segmented
        ),
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
