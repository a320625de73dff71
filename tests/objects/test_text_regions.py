"""Plates and text: found every few frames, held between, hidden as rectangles."""

from __future__ import annotations

import importlib.util
import json

import cv2
import numpy as np
import pytest

from helpers import decode_frames, region_diff, run_veil
from objects.test_objects import encode
from veil.cli.object_options import kinds_given
from veil.errors import InputError, VeilError
from veil.objects.text import TextBox
from veil.objects.textflow import kind_of, link_text
from veil.pipeline.objects import RegionRequest
from veil.preset import parse_preset
from veil.service.options import job_regions, resolve_options

needs_models = pytest.mark.skipif(
    importlib.util.find_spec("rapidocr_onnxruntime") is None,
    reason="rapidocr-onnxruntime (requirements-models.txt) is not installed",
)
TEXT_BOX = (60, 100, 260, 140)


def test_redact_names_plates_and_text_and_faces_are_always_hidden():
    assert kinds_given("faces,plates") == {"plate"}
    assert kinds_given("text, plates") == {"text", "plate"}
    assert kinds_given(None) == frozenset() == kinds_given("faces")
    with pytest.raises(VeilError, match="unknown cars"):
        kinds_given("faces,cars")


def test_a_line_seen_on_two_detection_frames_is_one_region_interpolated_and_held():
    found = {
        0: [TextBox((10, 10, 50, 20), 0.9)],
        5: [TextBox((20, 10, 60, 20), 0.8)],
        10: [],
    }
    (track,) = link_text(found, every=5, frames=12, kinds=frozenset({"plate"}))
    assert track.kind == "plate"
    assert track.boxes[2] == pytest.approx((14, 10, 54, 20))
    # held ``every`` frames past its last detection, not past the video's end
    assert sorted(track.boxes) == list(range(0, 11))


def test_plates_alone_leave_other_text_and_text_takes_every_line():
    found = {0: [TextBox((0, 0, 40, 10), 0.9), TextBox((0, 50, 300, 60), 0.9)]}
    assert [t.kind for t in link_text(found, 5, 10, frozenset({"plate"}))] == ["plate"]
    assert len(link_text(found, 5, 10, frozenset({"text"}))) == 2
    assert kind_of((0, 0, 300, 10)) == "text" and kind_of((0, 0, 30, 10)) == "plate"


def text_video(tmp_path, with_text: bool):
    rng = np.random.default_rng(3)
    frames = []
    for _ in range(20):
        frame = rng.integers(100, 140, (240, 320, 3)).astype(np.uint8)
        frame = cv2.GaussianBlur(frame, (0, 0), 3)
        if with_text:
            x0, y0, x1, y1 = TEXT_BOX
            frame[y0:y1, x0:x1] = 240
            cv2.putText(frame, "VEIL 42", (x0 + 10, y1 - 8), cv2.FONT_HERSHEY_SIMPLEX, 1.0,
                        (10, 10, 10), 2)  # fmt: skip
        frames.append(frame)
    return encode(frames, tmp_path / ("text.mp4" if with_text else "plain.mp4"))


@needs_models
def test_text_is_found_and_hidden_on_every_frame(tmp_path):
    video = text_video(tmp_path, with_text=True)
    out = tmp_path / "out.mp4"
    result = run_veil("combined", video, "-o", out, "--quality", "fast", "--redact",
                      "faces,text", "--annotations-out", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["regions"] >= 1
    before, after = decode_frames(video), decode_frames(out)
    x0, y0, x1, y1 = TEXT_BOX
    for k in range(len(before)):
        assert region_diff(before[k], after[k], (x0 + 10, y0 + 5, x1 - 60, y1 - 5)) > 15, k
    kinds = json.dumps(json.loads((tmp_path / "text_annotations.json").read_text()))
    assert '"kind": "text"' in kinds or '"kind": "plate"' in kinds


@needs_models
def test_footage_without_text_gets_no_region(tmp_path):
    video = text_video(tmp_path, with_text=False)
    out = tmp_path / "out.mp4"
    result = run_veil("combined", video, "-o", out, "--quality", "fast", "--redact",
                      "plates,text", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "regions" not in json.loads(result.stdout)["results"][0]


def test_a_preset_asks_for_plates_in_a_key_azure_readers_never_saw():
    v3 = {"mode": "Combined", "veil": {"redact": ["faces", "plates"]}}
    assert parse_preset(v3, "p.json").redact == ("faces", "plates")
    v1 = {"version": "1.0", "options": {"mode": "combined", "veil": {"redact": "text"}}}
    assert parse_preset(v1, "p.json").redact == ("text",)
    with pytest.raises(InputError, match="unknown cars"):
        parse_preset({"veil": {"redact": "cars"}}, "p.json")


def test_a_job_with_the_key_finds_plates_and_one_without_faces_only():
    asked = resolve_options(azure={"veil": {"redact": "faces,plates"}})
    assert job_regions(asked) == RegionRequest(kinds=frozenset({"plate"}))
    assert job_regions(resolve_options(azure={})) is None


@needs_models
def test_analyze_writes_text_as_ids_of_its_kind_that_redact_then_hides(tmp_path):
    video = text_video(tmp_path, with_text=True)
    result = run_veil("analyze", video, "-o", tmp_path, "--quality", "fast",
                      "--redact", "text", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["results"][0]
    assert summary["faces"] == 0 and summary["regions"] >= 1
    document = json.loads((tmp_path / "text_annotations.json").read_text())
    assert document["facesDetected"] == 0
    out = tmp_path / "out.mp4"
    assert run_veil("redact", video, "--annotations", tmp_path, "-o", out).returncode == 0
    before, after = decode_frames(video), decode_frames(out)
    x0, y0, x1, y1 = TEXT_BOX
    assert region_diff(before[5], after[5], (x0 + 10, y0 + 5, x1 - 60, y1 - 5)) > 15
