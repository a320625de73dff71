"""What a user chose -> :class:`PipelineConfig`: the one builder every shell uses.

The CLI's flags and a service job's options are both :class:`RunOptions`
(``None`` where nothing was chosen). :func:`build_config` resolves them in one
order, with one set of checks: the quality profile's settings first
(:mod:`veil.pipeline.profiles`), then what an Azure preset says (blur type,
analysis resolution), then each option given. A bad value is a
:class:`~veil.errors.VeilError` naming the option, before any work is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

from veil.audio import AudioSpan, Effect, parse_span
from veil.detect import DETECTOR_NAMES, RUNTIME_NAMES
from veil.errors import VeilError
from veil.pipeline.config import PipelineConfig
from veil.pipeline.profiles import DEFAULT_QUALITY, Quality, profile
from veil.preset import Preset
from veil.redact import MaskShape
from veil.settings import BlurType

# Azure's analysis resolutions, as the detector's input size
RESOLUTION_INPUT_SIZE = {"SourceResolution": 0, "StandardDefinition": 640}
DEVICES = ("cpu", "cuda", "auto")


@dataclass(frozen=True)
class RunOptions:
    """A run's settings as a user gives them; None: the profile's (or preset's) choice.

    Names are the CLI's long options (``detect_size`` is ``--detect-size``).
    """

    quality: Quality | None = None
    detector: str | None = None
    threshold: float | None = None
    detect_size: int | None = None
    upscale: float | None = None
    mirror: bool | None = None
    device: str | None = None
    runtime: str | None = None
    threads: int | None = None
    detect_every: int | None = None
    small_faces: float | None = None
    small_faces_every: int | None = None
    weak_faces: int | None = None
    weak_threshold: float | None = None
    max_gap: int | None = None
    pad_frames: int | None = None
    blur: BlurType | None = None
    mask: MaskShape | None = None
    mask_scale: float | None = None
    codec: str | None = None
    crf: int | None = None
    encoder_preset: str | None = None
    pix_fmt: str | None = None
    hwaccel: str | None = None
    # audio spans as START-END texts, one list per effect (--mute, --bleep, --tone)
    mute: Sequence[str] | None = None
    bleep: Sequence[str] | None = None
    tone: Sequence[str] | None = None

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check(options: RunOptions) -> None:
    """One line naming the first option whose value cannot work."""

    def bad(name: str, rule: str) -> VeilError:
        return VeilError(f"{_option(name)} {rule} (got {getattr(options, name)!r})")

    ranges = {
        "threshold": (0.0, 1.0, "must be between 0 and 1"),
        "weak_threshold": (0.0, 1.0, "must be between 0 and 1"),
        "upscale": (1.0, 8.0, "must be between 1 (off) and 8"),
        "small_faces": (1.0, 8.0, "must be between 1 (off) and 8"),
        "mask_scale": (0.5, 4.0, "must be between 0.5 and 4"),
        "detect_size": (0, 16384, "must be 0 (full resolution) or a size in pixels"),
        "threads": (0, 1024, "must be 0 (every core) or more"),
        "detect_every": (1, 1000, "must be 1 or more"),
        "small_faces_every": (0, 100000, "must be 0 or more"),
        "weak_faces": (0, 1000, "must be 0 (off) or more"),
        "max_gap": (0, 100000, "must be 0 or more"),
        "pad_frames": (0, 100000, "must be 0 or more"),
        "crf": (0, 63, "must be between 0 and 63"),
    }
    for name, (low, high, rule) in ranges.items():
        value = getattr(options, name)
        if value is not None and not low <= value <= high:
            raise bad(name, rule)
    if options.threshold is not None and options.threshold == 0:
        raise bad("threshold", "must be above 0")
    if options.weak_threshold is not None and options.weak_threshold == 0:
        raise bad("weak_threshold", "must be above 0")
    if options.detector is not None and options.detector not in DETECTOR_NAMES:
        raise bad("detector", f"must be one of {', '.join(DETECTOR_NAMES)}")
    if options.device is not None and options.device not in DEVICES:
        raise bad("device", f"must be one of {', '.join(DEVICES)}")
    if options.runtime is not None and options.runtime not in RUNTIME_NAMES:
        raise bad("runtime", f"must be one of {', '.join(RUNTIME_NAMES)}")


def build_config(options: RunOptions = RunOptions(), preset: Preset = Preset()) -> PipelineConfig:
    """The settings of a run: the profile, then the preset, then each option given.

    Raises:
        VeilError: an option's value is out of range or unknown (named).
    """
    _check(options)
    config = profile(options.quality or DEFAULT_QUALITY)
    det, small, weak = config.detector, config.small_faces, config.recurrence
    tracker, red, enc = config.tracker, config.redaction, config.encoder
    if preset.resolution is not None:
        det = replace(det, input_size=RESOLUTION_INPUT_SIZE[preset.resolution])
    if preset.blur_type is not None:
        red = replace(red, blur=preset.blur_type)

    def given(**pairs: str) -> dict:
        """{field: value} for each option (pairs: field=option name) that was given."""
        return {
            key: getattr(options, name)
            for key, name in pairs.items()
            if getattr(options, name) is not None
        }

    det = replace(
        det,
        **given(
            name="detector",
            threshold="threshold",
            input_size="detect_size",
            upscale="upscale",
            mirror="mirror",
            device="device",
            runtime="runtime",
            threads="threads",
        ),
    )
    small = replace(
        small,
        **given(upscale="small_faces", every="small_faces_every"),
    )
    weak = replace(weak, **given(frames="weak_faces", threshold="weak_threshold"))
    tracker = replace(tracker, **given(max_gap="max_gap", pad_frames="pad_frames"))
    red = replace(red, **given(blur="blur", mask="mask", mask_scale="mask_scale"))
    enc = replace(
        enc,
        **given(codec="codec", crf="crf", preset="encoder_preset", pixel_format="pix_fmt"),
    )
    return replace(
        config,
        detector=det,
        small_faces=small,
        recurrence=weak,
        tracker=tracker,
        redaction=red,
        encoder=enc,
        audio_spans=preset.audio_spans + _audio_spans(options),
        **given(detect_every="detect_every", hwaccel="hwaccel"),
    )


def _audio_spans(options: RunOptions) -> tuple[AudioSpan, ...]:
    """The spans of --mute, --bleep and --tone; a bad one is named with its option."""
    spans = []
    for effect in Effect:
        for text in getattr(options, effect.value) or ():
            try:
                spans.append(parse_span(text, effect))
            except VeilError as exc:
                raise VeilError(f"{_option(effect.value)}: {exc}") from None
    return tuple(spans)
