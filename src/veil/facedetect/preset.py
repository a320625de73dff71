"""Azure Media Face Detector presets.

The Face Detector's preset (Media Services v1) looks like::

    {"version": "1.0",
     "options": {"mode": "AggregateEmotion",
                 "aggregateEmotionWindowMs": "987", "aggregateEmotionIntervalMs": "342"}}

Keys are case-insensitive at every level, numbers may be strings or numbers,
``options`` and every option are optional (``{"version": "1.0"}`` is Azure's
faces-only preset). ``TrackingMode`` ("Fast", Azure's default) is accepted and
has no effect: veil has one tracker. Unknown keys are errors naming the key.
The Media Redactor's presets are read by :mod:`veil.preset`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from veil.errors import InputError
from veil.facedetect.settings import FaceDetectMode
from veil.preset import check_known, check_version, fold_keys
from veil.userfiles import load_json, read_bytes

OPTION_KEYS = ("mode", "aggregateEmotionWindowMs", "aggregateEmotionIntervalMs", "trackingMode")
TRACKING_MODES = ("Fast", "Quality")


@dataclass(frozen=True)
class FaceDetectorPreset:
    """What a preset asked for; None where it did not say."""

    mode: FaceDetectMode | None = None
    window_ms: float | None = None
    interval_ms: float | None = None


def _milliseconds(key: str, value: object, source: Path | str) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise InputError(source, f"{key} {json.dumps(value)} is not a number of milliseconds")
    return number


def parse_face_detector_preset(data: object, source: Path | str) -> FaceDetectorPreset:
    """A Face Detector preset from decoded JSON; ``source`` names it in errors.

    Raises:
        InputError: not an object, an unknown or repeated key, an unsupported
            version, or an invalid mode or number.
    """
    if not isinstance(data, dict):
        raise InputError(source, "a preset must be a JSON object")
    top = fold_keys(data, "", source)
    check_known(top, ("version", "options"), "", source)
    if "version" in top:
        check_version(top["version"][1], source)
    if "options" not in top:
        return FaceDetectorPreset()
    options_key, options = top["options"]
    if not isinstance(options, dict):
        raise InputError(source, f"preset {options_key!r} must be a JSON object")
    where = f" in {options_key!r}"
    fields = fold_keys(options, where, source)
    check_known(fields, OPTION_KEYS, where, source)

    mode = None
    if "mode" in fields:
        key, value = fields["mode"]
        mode = FaceDetectMode.parse(value)
        if mode is None:
            valid = ", ".join(m.azure_name for m in FaceDetectMode)
            raise InputError(source, f"{key} {json.dumps(value)} is not valid (valid: {valid})")
    if "trackingmode" in fields:
        key, value = fields["trackingmode"]
        if not isinstance(value, str) or value.strip().lower() not in {
            t.lower() for t in TRACKING_MODES
        }:
            valid = ", ".join(TRACKING_MODES)
            raise InputError(source, f"{key} {json.dumps(value)} is not valid (valid: {valid})")
    window = fields.get("aggregateemotionwindowms")
    interval = fields.get("aggregateemotionintervalms")
    return FaceDetectorPreset(
        mode=mode,
        window_ms=None if window is None else _milliseconds(*window, source),
        interval_ms=None if interval is None else _milliseconds(*interval, source),
    )


def read_face_detector_preset(path: Path | str) -> FaceDetectorPreset:
    """Reads an Azure Face Detector preset JSON file.

    Raises:
        InputError: missing or unreadable file, not JSON, or not a valid preset.
    """
    path = Path(path)
    return parse_face_detector_preset(load_json(read_bytes(path), path), path)
