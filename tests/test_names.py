"""One home for names: what veil calls its outputs, and which files it takes as inputs."""

from __future__ import annotations

from pathlib import Path

from helpers import SampleVideo, run_veil
from veil.cli.inputs import expand_inputs
from veil.names import (
    annotations_name,
    is_media_suffix,
    is_output_name,
    redacted_name,
    thumbnail_id,
    thumbnail_name,
)


def test_output_names():
    assert redacted_name("cam", ".AVI") == "cam_redacted.mp4"
    assert redacted_name("cam", ".png") == "cam_redacted.png"
    assert redacted_name("cam", ".mov", outline_only=True) == "cam_review.mp4"
    assert annotations_name("cam") == "cam_annotations.json"
    assert thumbnail_name("cam", 7) == "cam_thumb000007.jpg"
    assert thumbnail_id("cam", "cam_thumb000007.jpg") == 7
    assert thumbnail_id("cam", "cam_thumb7.jpg") is None
    assert thumbnail_id("cam", "other_thumb000007.jpg") is None


def test_a_folder_scan_skips_veils_own_outputs(tmp_path: Path):
    for name in ("a.mp4", "a_redacted.mp4", "a_review.mp4", "a_thumb000001.jpg", "b.WMV", "n.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in expand_inputs([tmp_path])] == ["a.mp4", "b.WMV"]
    assert is_output_name("x_redacted.jpg") and not is_output_name("x_report.mp4")
    assert is_media_suffix("clip.M2TS") and not is_media_suffix("clip.txt")


def test_an_outline_only_run_is_never_named_redacted(sample_video: SampleVideo, tmp_path: Path):
    result = run_veil("combined", sample_video.path, "-o", tmp_path, "--blur", "box")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk_review.mp4"]
