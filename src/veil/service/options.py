"""Job settings: an Azure preset plus veil's detector and encoder options -> PipelineConfig.

A job stores its resolved options as plain JSON (``JobOptions.model_dump()``),
so a later change to a preset does not change a job already queued.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from veil.detect import DETECTOR_NAMES, DetectorConfig
from veil.errors import VeilError
from veil.media import EncoderSettings
from veil.pipeline import PipelineConfig
from veil.preset import parse_preset
from veil.redact import RedactionConfig
from veil.settings import BlurType, Mode

# Azure's analysis resolutions, as the detector's input size (as the CLI maps them)
RESOLUTION_INPUT_SIZE = {"SourceResolution": 0, "StandardDefinition": 640}


class DetectorOptions(BaseModel):
    """veil's detector settings; None means the detector's default."""

    model_config = ConfigDict(extra="forbid")

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


class JobOptions(BaseModel):
    """Everything a job runs with, resolved from its preset when it is queued."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = Mode.COMBINED
    blur: BlurType | None = None
    resolution: str | None = None
    detector: DetectorOptions = DetectorOptions()
    encoder: EncoderOptions = EncoderOptions()


def resolve_options(
    *,
    azure: dict[str, Any] | None,
    detector: dict[str, Any] | None = None,
    encoder: dict[str, Any] | None = None,
    mode: str | None = None,
    source: str = "preset",
) -> JobOptions:
    """Check an Azure preset and veil's options and merge them; ``mode`` wins over the preset.

    Raises:
        VeilError: an invalid Azure preset (the message names the key), or bad options.
    """
    preset = parse_preset(azure if azure is not None else {}, source)
    try:
        det = DetectorOptions.model_validate(detector or {})
        enc = EncoderOptions.model_validate(encoder or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise VeilError(f"{source}: {where}: {first['msg']}") from exc
    det.check()
    chosen = Mode(mode) if mode is not None else preset.mode or Mode.COMBINED
    return JobOptions(
        mode=chosen,
        blur=preset.blur_type,
        resolution=preset.resolution,
        detector=det,
        encoder=enc,
    )


def pipeline_config(options: JobOptions) -> PipelineConfig:
    """The library's settings for a job, as ``veil COMMAND --preset`` would build them."""
    det = options.detector
    detector = DetectorConfig()
    if det.name is not None:
        detector = replace(detector, name=det.name)
    if options.resolution is not None:
        detector = replace(detector, input_size=RESOLUTION_INPUT_SIZE[options.resolution])
    if det.input_size is not None:
        detector = replace(detector, input_size=det.input_size)
    if det.threshold is not None:
        detector = replace(detector, threshold=det.threshold)
    if det.upscale is not None:
        detector = replace(detector, upscale=det.upscale)
    encoder = EncoderSettings()
    if options.encoder.crf is not None:
        encoder = replace(encoder, crf=options.encoder.crf)
    if options.encoder.preset is not None:
        encoder = replace(encoder, preset=options.encoder.preset)
    redaction = RedactionConfig()
    if options.blur is not None:
        redaction = replace(redaction, blur=options.blur)
    return replace(PipelineConfig(), detector=detector, redaction=redaction, encoder=encoder)
