"""Job settings: an Azure preset plus veil's detector and encoder options -> PipelineConfig.

A job stores its resolved options as plain JSON (``JobOptions.model_dump()``),
so a later change to a preset does not change a job already queued.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from veil.audio import Effect, parse_span
from veil.detect import DETECTOR_NAMES
from veil.errors import VeilError
from veil.pipeline import PipelineConfig
from veil.pipeline.objects import RegionRequest
from veil.pipeline.options import RunOptions, build_config
from veil.preset import Preset, parse_preset
from veil.settings import BlurType, Mode, Quality


class DetectorOptions(BaseModel):
    """veil's detector settings; None means the quality profile's."""

    model_config = ConfigDict(extra="forbid")

    quality: Quality | None = Field(None, description="fast, balanced (default) or thorough")
    name: str | None = Field(None, description=f"one of {', '.join(DETECTOR_NAMES)}")
    threshold: float | None = Field(None, gt=0, lt=1)
    input_size: int | None = Field(None, ge=0, le=8192)
    upscale: float | None = Field(None, ge=1, le=4)

    def check(self) -> None:
        if self.name is not None and self.name not in DETECTOR_NAMES:
            raise VeilError(
                f"unknown detector {self.name!r}: choose one of {', '.join(DETECTOR_NAMES)}"
            )


class EncoderOptions(BaseModel):
    """Video output settings; None means veil's default."""

    model_config = ConfigDict(extra="forbid")

    crf: int | None = Field(None, ge=0, le=51)
    preset: str | None = Field(None, pattern=r"^[a-z]{1,16}$", description="x264 speed preset")


SpanText = Annotated[str, Field(max_length=40)]


class AudioOptions(BaseModel):
    """Spans of sound to hide, as ``START-END`` texts (``12.5-14``, ``1:02.3-1:03``)."""

    model_config = ConfigDict(extra="forbid")

    mute: list[SpanText] = Field(default_factory=list, max_length=1000)
    bleep: list[SpanText] = Field(default_factory=list, max_length=1000)
    tone: list[SpanText] = Field(default_factory=list, max_length=1000)

    def check(self) -> None:
        for effect in Effect:
            for text in getattr(self, effect.value):
                try:
                    parse_span(text, effect)
                except VeilError as exc:
                    raise VeilError(f"audio.{effect.value}: {exc}") from None


class JobOptions(BaseModel):
    """Everything a job runs with, resolved from its preset when it is queued."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = Mode.COMBINED
    blur: BlurType | None = None
    resolution: str | None = None
    detector: DetectorOptions = DetectorOptions()
    encoder: EncoderOptions = EncoderOptions()
    audio: AudioOptions = AudioOptions()
    # the preset's veil.redact: faces always, plus "plates" and/or "text"
    redact: tuple[str, ...] | None = None


def resolve_options(
    *,
    azure: dict[str, Any] | None,
    detector: dict[str, Any] | None = None,
    encoder: dict[str, Any] | None = None,
    mode: str | None = None,
    source: str = "preset",
    audio: dict[str, Any] | None = None,
) -> JobOptions:
    """Check an Azure preset and veil's options and merge them; ``mode`` wins over the preset.

    Raises:
        VeilError: an invalid Azure preset (the message names the key), or bad options.
    """
    preset = parse_preset(azure if azure is not None else {}, source)
    try:
        det = DetectorOptions.model_validate(detector or {})
        enc = EncoderOptions.model_validate(encoder or {})
        sound = AudioOptions.model_validate(audio or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise VeilError(f"{source}: {where}: {first['msg']}") from exc
    det.check()
    sound.check()
    # the preset's spans (its "veil" key) and the job's own both apply
    for span in preset.audio_spans:
        getattr(sound, span.effect.value).append(f"{span.start:.6f}-{span.end:.6f}")
    chosen = Mode(mode) if mode is not None else preset.mode or Mode.COMBINED
    return JobOptions(
        mode=chosen,
        blur=preset.blur_type,
        resolution=preset.resolution,
        detector=det,
        encoder=enc,
        audio=sound,
        redact=preset.redact,
    )


def pipeline_config(options: JobOptions) -> PipelineConfig:
    """The library's settings for a job, built as ``veil COMMAND --preset`` builds them."""
    det, enc = options.detector, options.encoder
    chosen = RunOptions(
        quality=det.quality,
        detector=det.name,
        threshold=det.threshold,
        detect_size=det.input_size,
        upscale=det.upscale,
        blur=options.blur,
        crf=enc.crf,
        encoder_preset=enc.preset,
        mute=options.audio.mute,
        bleep=options.audio.bleep,
        tone=options.audio.tone,
    )
    return build_config(chosen, Preset(resolution=options.resolution))


def job_regions(options: JobOptions) -> RegionRequest | None:
    """What a job hides besides faces (plates, text), as ``--redact`` asks; None: faces only."""
    kinds = frozenset(n.removesuffix("s") for n in options.redact or () if n != "faces")
    return RegionRequest(kinds=kinds) if kinds else None
