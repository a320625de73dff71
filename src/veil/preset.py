"""Azure Media Redactor presets: the JSON that chose mode and blur type.

Two forms are read, keys case-insensitive at every level:

* Media Services v1 (Media Redactor)::

    {"version": "1.0", "options": {"mode": "combined", "blurType": "High"}}

* Media Services v3 (FaceDetectorPreset)::

    {"@odata.type": "#Microsoft.Media.FaceDetectorPreset",
     "mode": "Combined", "blurType": "High", "resolution": "SourceResolution"}

Either form may carry a ``veil`` object that Azure never defined (Azure
readers ignore the preset key they do not know): veil's own settings, today
the audio spans to hide, ``{"veil": {"audio": {"mute": ["12.5-14"], "bleep":
["1:02.3-1:03"]}}}`` (see docs/audio.md).

Unknown keys are errors, not ignored: a misspelt ``blurTpye`` silently falling
back to the default blur would leave faces less hidden than the user asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from veil.audio import AudioSpan, Effect, parse_span
from veil.errors import InputError, VeilError
from veil.settings import BlurType, Mode
from veil.userfiles import load_json, read_bytes

FACE_DETECTOR_ODATA_TYPE = "#Microsoft.Media.FaceDetectorPreset"
RESOLUTIONS = ("SourceResolution", "StandardDefinition")

_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True)
class Preset:
    """What a preset asked for; None where it did not say (use the default).

    ``resolution`` is Azure's v3 analysis resolution, spelt as Azure does.
    ``audio_spans`` and ``redact`` come from veil's own ``veil`` key (Azure readers
    never saw it): ``{"audio": {"mute": [...]}, "redact": ["faces", "plates"]}``;
    ``redact`` names what to hide besides faces, as ``--redact`` does.
    """

    mode: Mode | None = None
    blur_type: BlurType | None = None
    resolution: str | None = None
    audio_spans: tuple[AudioSpan, ...] = ()
    redact: tuple[str, ...] | None = None


def fold_keys(data: dict, where: str, source: Path | str) -> dict[str, tuple[str, object]]:
    """{lower-case key: (key as written, value)}; two spellings of one key are an error.

    ``where`` (e.g. ``" in 'options'"``) says in which object, in errors.
    """
    folded: dict[str, tuple[str, object]] = {}
    for key, value in data.items():
        lower = key.lower()
        if lower in folded:
            raise InputError(source, f"preset key {key!r} given twice{where}")
        folded[lower] = (key, value)
    return folded


def check_known(
    folded: dict[str, tuple[str, object]], known: tuple[str, ...], where: str, source: Path | str
) -> None:
    """Every key of ``folded`` is one of ``known`` (any case); the error names each that is not."""
    lowered = {k.lower() for k in known}
    unknown = [key for lower, (key, _) in folded.items() if lower not in lowered]
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        raise InputError(
            source,
            f"unknown preset key{'s' if len(unknown) > 1 else ''} {names}{where} "
            f"(known: {', '.join(known)})",
        )


def _choice(kind: type[_E], key: str, value: object, source: Path | str) -> _E:
    try:
        if isinstance(value, str):
            return kind(value)
    except ValueError:
        pass
    valid = ", ".join(member.value for member in kind)
    raise InputError(source, f"{key} {json.dumps(value)} is not valid (valid: {valid})")


def _resolution(value: object, source: Path | str) -> str:
    if isinstance(value, str):
        for name in RESOLUTIONS:
            if name.lower() == value.strip().lower():
                return name
    valid = ", ".join(RESOLUTIONS)
    raise InputError(source, f"resolution {json.dumps(value)} is not valid (valid: {valid})")


def check_version(value: object, source: Path | str) -> None:
    """Azure's presets are version 1.0 (also written 1 or "1")."""
    if value in ("1.0", "1") or (not isinstance(value, bool) and value == 1):
        return
    raise InputError(source, f'unsupported preset version {json.dumps(value)} (expected "1.0")')


def _check_odata_type(value: object, source: Path | str) -> None:
    if isinstance(value, str) and value.lower() == FACE_DETECTOR_ODATA_TYPE.lower():
        return
    raise InputError(
        source,
        f"@odata.type {json.dumps(value)} is not a face preset "
        f'(expected "{FACE_DETECTOR_ODATA_TYPE}")',
    )


def _check_experimental(value: object, source: Path | str) -> None:
    # Azure documented no experimental option; accept only an empty one so a
    # preset exported from Azure loads, and say so if it carries something.
    if value is None or value == {}:
        return
    raise InputError(source, f"experimentalOptions are not supported (got {json.dumps(value)})")


def parse_preset(data: object, source: Path | str) -> Preset:
    """A preset from decoded JSON (either form); ``source`` names it in errors.

    Raises:
        InputError: not an object, an unknown or repeated key, or an invalid
            value (valid values are listed).
    """
    if not isinstance(data, dict):
        raise InputError(source, "a preset must be a JSON object")
    top = fold_keys(data, "", source)

    if "options" in top:  # v1
        check_known(top, ("version", "options"), "", source)
        if "version" in top:
            check_version(top["version"][1], source)
        options_key, options = top["options"]
        if not isinstance(options, dict):
            raise InputError(source, f"preset {options_key!r} must be a JSON object")
        where = f" in {options_key!r}"
        fields = fold_keys(options, where, source)
        check_known(fields, ("mode", "blurType", "veil"), where, source)
    else:  # v3
        fields = top
        check_known(
            fields,
            ("@odata.type", "mode", "blurType", "resolution", "experimentalOptions", "veil"),
            "",
            source,
        )
        checks: dict[str, Callable[[object, Path | str], None]] = {
            "@odata.type": _check_odata_type,
            "experimentaloptions": _check_experimental,
        }
        for lower, check in checks.items():
            if lower in fields:
                check(fields[lower][1], source)

    mode = fields.get("mode")
    blur = fields.get("blurtype")
    resolution = fields.get("resolution")
    extras = fields.get("veil")
    return Preset(
        mode=None if mode is None else _choice(Mode, mode[0], mode[1], source),
        blur_type=None if blur is None else _choice(BlurType, blur[0], blur[1], source),
        resolution=None if resolution is None else _resolution(resolution[1], source),
        audio_spans=() if extras is None else _audio_spans(_veil_key(extras[1], source), source),
        redact=None if extras is None else _redact(_veil_key(extras[1], source), source),
    )


def _veil_key(extras: object, source: Path | str) -> dict[str, tuple[str, object]]:
    """veil's own key, ``{"audio": {...}, "redact": [...]}``, folded and checked."""
    if not isinstance(extras, dict):
        raise InputError(source, "preset 'veil' must be a JSON object")
    folded = fold_keys(extras, " in 'veil'", source)
    check_known(folded, ("audio", "redact"), " in 'veil'", source)
    return folded


def _audio_spans(
    extras: dict[str, tuple[str, object]], source: Path | str
) -> tuple[AudioSpan, ...]:
    """The spans of ``"audio": {"mute": [...], "bleep": [...], "tone": [...]}``."""
    audio = extras.get("audio", ("audio", {}))[1]
    if not isinstance(audio, dict):
        raise InputError(source, "preset 'veil.audio' must be a JSON object")
    effects = fold_keys(audio, " in 'veil.audio'", source)
    check_known(effects, tuple(effect.value for effect in Effect), " in 'veil.audio'", source)
    spans = []
    for effect in Effect:
        texts = effects.get(effect.value, (effect.value, []))[1]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise InputError(source, f"veil.audio.{effect.value} must be a list of START-END texts")
        try:
            spans.extend(parse_span(text, effect) for text in texts)
        except VeilError as exc:
            raise InputError(source, f"veil.audio.{effect.value}: {exc}") from None
    return tuple(spans)


REDACT_CHOICES = ("faces", "plates", "text")


def _redact(extras: dict[str, tuple[str, object]], source: Path | str) -> tuple[str, ...] | None:
    """``"redact": "faces,plates"`` or ``["faces", "plates"]`` -> the names, checked."""
    if "redact" not in extras:
        return None
    value = extras["redact"][1]
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InputError(source, "preset 'veil.redact' must be a list of names or a comma list")
    chosen = tuple(n.strip().lower() for n in names if n.strip())
    unknown = sorted(set(chosen) - set(REDACT_CHOICES))
    if unknown:
        raise InputError(
            source,
            "preset 'veil.redact': unknown "
            + ", ".join(unknown)
            + "; choose from "
            + ", ".join(REDACT_CHOICES),
        )
    return chosen


def read_preset(path: Path | str) -> Preset:
    """Reads an Azure preset JSON file (v1 or v3 form).

    Raises:
        InputError: missing or unreadable file, not JSON, or not a valid preset.
    """
    path = Path(path)
    data = load_json(read_bytes(path), path)
    return parse_preset(data, path)
