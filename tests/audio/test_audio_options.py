"""Audio spans reach the renderer from every shell: flags, presets, service jobs, annotations."""

from __future__ import annotations

import pytest

from veil.annotations import parse_annotations
from veil.audio import AudioSpan, Effect
from veil.errors import InputError, VeilError
from veil.pipeline.options import RunOptions, build_config
from veil.pipeline.run import annotated_audio_spans
from veil.preset import parse_preset
from veil.service.options import pipeline_config, resolve_options


def test_flags_become_spans_of_their_effect():
    config = build_config(RunOptions(mute=["1-2", "3:00-3:01"], bleep=["0.5-0.75"]))
    assert config.audio_spans == (
        AudioSpan(1, 2, Effect.MUTE),
        AudioSpan(180, 181, Effect.MUTE),
        AudioSpan(0.5, 0.75, Effect.BLEEP),
    )


def test_a_bad_flag_value_names_the_flag():
    with pytest.raises(VeilError, match=r"^--tone: "):
        build_config(RunOptions(tone=["5-4"]))


def test_a_preset_carries_spans_under_a_veil_key_azure_ignores():
    preset = parse_preset(
        {
            "@odata.type": "#Microsoft.Media.FaceDetectorPreset",
            "mode": "Redact",
            "veil": {"audio": {"Mute": ["1-2"], "bleep": ["0:03-0:04.5"]}},
        },
        "p.json",
    )
    assert preset.audio_spans == (AudioSpan(1, 2), AudioSpan(3, 4.5, Effect.BLEEP))
    v1 = parse_preset({"version": "1.0", "options": {"veil": {"audio": {"tone": ["1-2"]}}}}, "p")
    assert v1.audio_spans == (AudioSpan(1, 2, Effect.TONE),)


@pytest.mark.parametrize(
    "extras",
    [{"audio": {"mutte": ["1-2"]}}, {"audio": {"mute": "1-2"}}, {"audio": {"mute": ["x"]}}, []],
)
def test_a_preset_with_a_misspelt_or_bad_audio_setting_is_refused(extras: object):
    with pytest.raises(InputError):
        parse_preset({"mode": "redact", "veil": extras}, "p.json")


def test_a_service_job_applies_its_preset_spans_and_its_own():
    options = resolve_options(
        azure={"mode": "Combined", "veil": {"audio": {"mute": ["1-2"]}}},
        audio={"bleep": ["4-5"]},
    )
    # stored as plain JSON with the job, and rebuilt from it
    stored = type(options).model_validate(options.model_dump(mode="json"))
    assert set(pipeline_config(stored).audio_spans) == {
        AudioSpan(1, 2),
        AudioSpan(4, 5, Effect.BLEEP),
    }


def test_a_service_job_with_a_bad_span_is_refused():
    with pytest.raises(VeilError, match=r"audio\.mute"):
        resolve_options(azure=None, audio={"mute": ["2-1"]})


def test_annotations_keep_audio_spans_and_say_who_added_them():
    text = (
        '{"version": 1, "timescale": 25, "framerate": 25, "width": 4, "height": 4,'
        ' "fragments": [], "audioSpans": [{"start": 1.5, "end": 2, "effect": "bleep",'
        ' "by": "digits", "reason": "five five five"}]}'
    )
    annotations = parse_annotations(text, "a.json")
    assert annotated_audio_spans(annotations) == (
        AudioSpan(1.5, 2, Effect.BLEEP, "digits", "five five five"),
    )
    with pytest.raises(InputError, match="audioSpans"):
        parse_annotations(text.replace('"end": 2', '"end": 1'), "a.json")
