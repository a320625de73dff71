"""One builder from a user's choices to the pipeline's settings, for every shell."""

from __future__ import annotations

import pytest

from veil.errors import VeilError
from veil.pipeline.options import RunOptions, build_config
from veil.pipeline.profiles import DEFAULT_QUALITY, profile
from veil.preset import Preset
from veil.settings import BlurType, Quality


def test_nothing_chosen_is_the_default_profile() -> None:
    assert build_config() == profile(DEFAULT_QUALITY)


@pytest.mark.parametrize("quality", list(Quality))
def test_each_quality_is_its_profile(quality: Quality) -> None:
    assert build_config(RunOptions(quality=quality)) == profile(quality)


def test_the_preset_overrides_the_profile_and_an_option_overrides_the_preset() -> None:
    preset = Preset(blur_type=BlurType.HIGH, resolution="StandardDefinition")
    from_preset = build_config(RunOptions(), preset)
    assert from_preset.redaction.blur is BlurType.HIGH
    assert from_preset.detector.input_size == 640
    chosen = build_config(RunOptions(blur=BlurType.LOW, detect_size=960), preset)
    assert chosen.redaction.blur is BlurType.LOW
    assert chosen.detector.input_size == 960


def test_an_option_keeps_the_rest_of_the_profile() -> None:
    thorough = profile(Quality.THOROUGH)
    config = build_config(RunOptions(quality=Quality.THOROUGH, threshold=0.4))
    assert config.detector.threshold == 0.4
    assert config.detector.name == thorough.detector.name
    assert config.detect_every == thorough.detect_every


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (RunOptions(threshold=1.5), "--threshold must be between 0 and 1"),
        (RunOptions(threshold=0.0), "--threshold must be above 0"),
        (RunOptions(detect_every=0), "--detect-every must be 1 or more"),
        (RunOptions(threads=-1), "--threads must be 0"),
        (RunOptions(small_faces=0.5), "--small-faces must be between 1"),
        (RunOptions(weak_faces=-2), "--weak-faces must be 0"),
        (RunOptions(detector="yolo"), "--detector must be one of"),
        (RunOptions(mask_scale=0.1), "--mask-scale must be between"),
    ],
)
def test_a_bad_value_names_its_option(options: RunOptions, message: str) -> None:
    with pytest.raises(VeilError, match=message):
        build_config(options)
