"""Azure Media Redactor presets (v1 and v3 forms)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veil.errors import InputError
from veil.preset import Preset, parse_preset, read_preset
from veil.settings import BlurType, Mode

ODATA = "#Microsoft.Media.FaceDetectorPreset"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # v1 (Media Services v1 Media Redactor)
        (
            {"version": "1.0", "options": {"mode": "combined", "blurType": "High"}},
            Preset(Mode.COMBINED, BlurType.HIGH),
        ),
        ({"version": "1.0", "options": {"mode": "analyze"}}, Preset(Mode.ANALYZE)),
        (
            {"Version": 1.0, "Options": {"Mode": "Redact", "BlurType": "Med"}},
            Preset(Mode.REDACT, BlurType.MED),
        ),
        ({"VERSION": 1, "OPTIONS": {"MODE": "COMBINED"}}, Preset(Mode.COMBINED)),
        ({"options": {"blurtype": "box"}}, Preset(blur_type=BlurType.BOX)),
        ({"options": {}}, Preset()),
        # v3 (FaceDetectorPreset)
        (
            {"@odata.type": ODATA, "mode": "Combined", "blurType": "High"},
            Preset(Mode.COMBINED, BlurType.HIGH),
        ),
        (
            {"@odata.type": ODATA, "mode": "Analyze", "resolution": "SourceResolution"},
            Preset(Mode.ANALYZE, resolution="SourceResolution"),
        ),
        (
            {"@ODATA.TYPE": ODATA.lower(), "Mode": "redact", "BLURTYPE": "Black"},
            Preset(Mode.REDACT, BlurType.BLACK),
        ),
        (
            {"mode": "Redact", "blurType": "Low", "resolution": "standarddefinition"},
            Preset(Mode.REDACT, BlurType.LOW, "StandardDefinition"),
        ),
        ({"blurType": "pixelate", "experimentalOptions": {}}, Preset(blur_type=BlurType.PIXELATE)),
        ({"mode": " combined "}, Preset(Mode.COMBINED)),
        ({}, Preset()),
    ],
)
def test_valid(data: dict, expected: Preset) -> None:
    assert parse_preset(data, "preset.json") == expected


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"mode": "combined", "blurTpye": "High"}, "unknown preset key 'blurTpye' (known: "),
        ({"options": {"mode": "redact", "blur": "High"}}, "unknown preset key 'blur' in 'options'"),
        ({"version": "1.0", "options": {}, "extra": 1}, "unknown preset key 'extra'"),
        ({"options": {"resolution": "SourceResolution"}}, "unknown preset key 'resolution'"),
        ({"blurType": "Hgih"}, 'blurType "Hgih" is not valid (valid: low, med, high, box, black'),
        ({"options": {"BlurType": 3}}, "BlurType 3 is not valid (valid: "),
        ({"mode": "AnalyzeVideo"}, 'mode "AnalyzeVideo" is not valid (valid: analyze, redact, '),
        ({"mode": None}, "mode null is not valid"),
        ({"resolution": "4K"}, 'resolution "4K" is not valid (valid: SourceResolution, '),
        ({"version": "2.0", "options": {}}, 'unsupported preset version "2.0" (expected "1.0")'),
        ({"version": True, "options": {}}, "unsupported preset version true"),
        (
            {"@odata.type": "#Microsoft.Media.AudioAnalyzerPreset"},
            '@odata.type "#Microsoft.Media.AudioAnalyzerPreset" is not a face preset',
        ),
        ({"experimentalOptions": {"x": "1"}}, "experimentalOptions are not supported"),
        ({"options": "combined"}, "preset 'options' must be a JSON object"),
        ({"mode": "redact", "Mode": "combined"}, "preset key 'Mode' given twice"),
        ([], "a preset must be a JSON object"),
    ],
)
def test_invalid(data: object, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_preset(data, "preset.json")
    assert caught.value.problem.startswith(problem), caught.value.problem
    assert str(caught.value.path) == "preset.json"
    assert "\n" not in str(caught.value)


def test_unknown_key_lists_known_keys() -> None:
    with pytest.raises(InputError) as caught:
        parse_preset({"blurTpye": "High"}, "p.json")
    assert caught.value.problem == (
        "unknown preset key 'blurTpye' "
        "(known: @odata.type, mode, blurType, resolution, experimentalOptions, veilRedact)"
    )


def test_read_preset_file(tmp_path: Path) -> None:
    path = tmp_path / "preset.json"
    path.write_bytes(
        json.dumps({"version": "1.0", "options": {"Mode": "Combined", "BlurType": "High"}}).encode(
            "utf-8-sig"
        )
    )
    assert read_preset(path) == Preset(Mode.COMBINED, BlurType.HIGH)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "file not found"),
        (b"{'mode': 'combined'}", "not valid JSON: Expecting property name"),
        (b"[]", "a preset must be a JSON object"),
        (b'{"mode": "fast"}', 'mode "fast" is not valid'),
    ],
)
def test_read_preset_errors(content: bytes | None, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "preset.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_preset(path)
    assert caught.value.path == path
    assert caught.value.problem.startswith(problem)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("High", BlurType.HIGH),
        ("MED", BlurType.MED),
        ("pixelate", BlurType.PIXELATE),
        ("Combined", Mode.COMBINED),
    ],
)
def test_settings_parse_case_insensitively(text: str, expected: BlurType | Mode) -> None:
    assert type(expected)(text) is expected


def test_settings_values() -> None:
    assert BlurType.values() == "low, med, high, box, black, pixelate"
    assert Mode.values() == "analyze, redact, combined"
    with pytest.raises(ValueError):
        BlurType("medium")
