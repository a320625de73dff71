"""The real ``veil`` command on real encoded media: what a user relies on."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from evaluation.samples import MovingFace, make_sample_video
from helpers import (
    SampleVideo,
    decode_frames,
    frame_pts,
    outside_mask,
    region_diff,
    run_veil,
    shrink,
)

# Re-encoding alone changes pixels by ~1 level; a blurred face by tens.
ENCODE_NOISE = 4.0
BLURRED = 12.0


def assert_faces_hidden(original: Path, redacted: Path, boxes, faces=None) -> None:
    before, after = decode_frames(original), decode_frames(redacted)
    assert len(after) == len(before)
    for index, (a, b) in enumerate(zip(before, after, strict=True)):
        chosen = [
            boxes[index][k] for k in (faces if faces is not None else range(len(boxes[index])))
        ]
        for box in chosen:
            assert region_diff(a, b, shrink(box)) > BLURRED, f"face visible in frame {index}"
        background = outside_mask(a.shape, boxes[index])
        assert np.abs(a.astype(int) - b.astype(int))[background].mean() < ENCODE_NOISE


def test_combined_hides_every_face_and_keeps_the_rest(sample_video: SampleVideo, tmp_path: Path):
    out = tmp_path / "out.mp4"
    result = run_veil("combined", sample_video.path, "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    assert_faces_hidden(sample_video.path, out, sample_video.boxes)


@pytest.mark.slow
def test_combined_keeps_audio_timestamps_and_duration(sample_video: SampleVideo, tmp_path: Path):
    out = tmp_path / "out.mp4"
    assert run_veil("combined", sample_video.path, "-o", out, "--quiet").returncode == 0
    assert frame_pts(out) == pytest.approx(frame_pts(sample_video.path), abs=1e-6)
    with av.open(str(sample_video.path)) as src, av.open(str(out)) as dst:
        assert [s.type for s in dst.streams] == ["video", "audio"]
        assert dst.streams.audio[0].codec_context.name == "aac"
        assert dst.streams.audio[0].frames == src.streams.audio[0].frames
        assert float(dst.duration) == pytest.approx(float(src.duration), rel=0.02)
        assert dst.streams.video[0].codec_context.name == "h264"
        assert dst.streams.video[0].codec_context.pix_fmt == "yuv420p"


def test_variable_frame_rate_and_odd_size_survive(tmp_path: Path):
    src = tmp_path / "vfr.mp4"
    # 30 fps with every third frame held twice as long
    times, t = [], Fraction(0)
    for i in range(30):
        times.append(t)
        t += Fraction(2, 30) if i % 3 == 2 else Fraction(1, 30)
    faces = [MovingFace(size=80, start=(60, 40), end=(160, 60))]
    boxes = make_sample_video(src, width=321, height=243, times=times, faces=faces)
    out = tmp_path / "out.mp4"
    assert run_veil("combined", src, "-o", out, "--quiet").returncode == 0
    assert frame_pts(out) == pytest.approx([float(x) for x in times], abs=1e-6)
    frames = decode_frames(out)
    # 4:2:0 needs even sizes: one edge row/column is added, nothing is cut
    assert frames[0].shape[:2] == (244, 322)
    for index, frame in enumerate(frames):
        original = decode_frames(src)[index] if index == 0 else None
        if original is not None:
            assert region_diff(original, frame[:243, :321], shrink(boxes[0][0])) > BLURRED


def test_display_rotation_is_kept_and_sideways_faces_are_found(tmp_path: Path):
    upright = tmp_path / "upright.mp4"
    boxes = make_sample_video(upright, frames=12, audio=False)
    # store the frames turned a quarter clockwise, with a display rotation that turns them back
    stored = [np.ascontiguousarray(np.rot90(f, -1)) for f in decode_frames(upright)]
    sideways = tmp_path / "phone.mp4"
    from veil.media import write_video

    write_video(sideways, stored, [Fraction(i, 24) for i in range(12)], rotation=90)
    out = tmp_path / "out.mp4"
    assert run_veil("combined", sideways, "-o", out, "--quiet").returncode == 0
    with av.open(str(out)) as container:
        first = next(container.decode(video=0))
        assert first.rotation == 90
    before, after = decode_frames(sideways), decode_frames(out)
    for index in range(12):
        for x0, y0, x1, y1 in boxes[index]:
            # the upright box (x, y) in a 640x360 frame sits at (360 - y, x) when stored
            stored_box = (360 - y1, x0, 360 - y0, x1)
            assert region_diff(before[index], after[index], shrink(stored_box)) > BLURRED


@pytest.mark.slow
def test_two_pass_redacts_only_the_chosen_ids(sample_video: SampleVideo, tmp_path: Path):
    result = run_veil("analyze", sample_video.path, "-o", tmp_path, "--quiet")
    assert result.returncode == 0, result.stderr
    annotations = json.loads((tmp_path / "walk_annotations.json").read_text())
    assert annotations["facesDetected"] == 2
    # each ID says how sure it is a face: two clear faces, neither low-confidence
    assert [(i["id"], i["lowConfidence"]) for i in annotations["ids"]] == [(1, False), (2, False)]
    assert all(i["confidence"] > 0.5 for i in annotations["ids"])
    assert sorted((tmp_path).glob("walk_thumb*.jpg")) == [
        tmp_path / "walk_thumb000001.jpg",
        tmp_path / "walk_thumb000002.jpg",
    ]
    # ID 1 is the big face on the left (it appears first in the frame's event list)
    first_event = annotations["fragments"][0]["events"][0]
    big_id = min(first_event, key=lambda f: f["x"])["id"]
    ids = tmp_path / "ids.txt"
    ids.write_bytes(f"\ufeff{big_id}\r\n\r\n".encode("utf-16"))
    out = tmp_path / "out.mp4"
    result = run_veil(
        "redact",
        sample_video.path,
        "--annotations",
        tmp_path / "walk_annotations.json",
        "--ids",
        ids,
        "-o",
        out,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    before, after = decode_frames(sample_video.path), decode_frames(out)
    for index, (a, b) in enumerate(zip(before, after, strict=True)):
        big, small = sample_video.boxes[index]
        assert region_diff(a, b, shrink(big)) > BLURRED
        assert region_diff(a, b, small) < ENCODE_NOISE


@pytest.mark.slow
def test_redact_blurs_what_the_edited_json_says(sample_video: SampleVideo, tmp_path: Path):
    assert run_veil("analyze", sample_video.path, "-o", tmp_path, "--quiet").returncode == 0
    path = tmp_path / "walk_annotations.json"
    annotations = json.loads(path.read_text())
    # the user deletes every box and draws one manual box in the top-right corner
    manual = {"id": 99, "x": 0.8, "y": 0.05, "width": 0.15, "height": 0.2, "manual": True}
    for fragment in annotations["fragments"]:
        fragment["events"] = [[manual] for _ in fragment["events"]]
    path.write_text(json.dumps(annotations))
    out = tmp_path / "out.mp4"
    result = run_veil("redact", sample_video.path, "--annotations", path, "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    before, after = decode_frames(sample_video.path), decode_frames(out)
    manual_box = (512, 18, 608, 90)
    for index, (a, b) in enumerate(zip(before, after, strict=True)):
        assert region_diff(a, b, shrink(manual_box)) > 3
        for box in sample_video.boxes[index]:
            assert region_diff(a, b, box) < ENCODE_NOISE


@pytest.mark.slow
@pytest.mark.parametrize(
    "preset",
    [
        {"version": "1.0", "options": {"mode": "combined", "blurType": "Black"}},
        {
            "@odata.type": "#Microsoft.Media.FaceDetectorPreset",
            "Mode": "Combined",
            "BLURTYPE": "black",
        },
    ],
    ids=["v1", "v3"],
)
def test_azure_presets_choose_the_blur(sample_video: SampleVideo, tmp_path: Path, preset):
    preset_file = tmp_path / "preset.json"
    preset_file.write_text(json.dumps(preset))
    out = tmp_path / "out.mp4"
    result = run_veil("combined", sample_video.path, "--preset", preset_file, "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    frame = decode_frames(out)[10]
    x0, y0, x1, y1 = shrink(sample_video.boxes[10][0])
    assert frame[y0:y1, x0:x1].mean() < 12


@pytest.mark.slow
def test_folder_of_inputs_gets_one_output_each_and_a_json_summary(tmp_path: Path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    make_sample_video(inputs / "a.mp4", frames=6, audio=False)
    make_sample_video(inputs / "b.mov", frames=6, audio=False)
    out = tmp_path / "out"
    result = run_veil("combined", inputs, "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [Path(r["input"]).name for r in summary["results"]] == ["a.mp4", "b.mov"]
    assert all(r["faces"] == 2 and r["frames"] == 6 for r in summary["results"])
    assert sorted(p.name for p in out.iterdir()) == ["a_redacted.mp4", "b_redacted.mp4"]


def test_image_keeps_format_loses_exif_and_hides_the_face(tmp_path: Path):
    from PIL import Image
    from skimage import data

    src = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0)}  # GPS latitude
    Image.fromarray(data.astronaut()).save(src, exif=exif)
    out = tmp_path / "photo_redacted.jpg"
    result = run_veil("combined", src, "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info
        redacted = np.asarray(image)
    face = (200, 80, 250, 160)
    assert region_diff(data.astronaut(), redacted, face) > BLURRED


@pytest.mark.slow
def test_faces_too_small_for_the_downscaled_pass_are_found_and_hidden(tmp_path: Path):
    # 1080p is detected at 1280 px, where these faces shrink to 11 and 13 px: too
    # small for the detector, but found by the enlarged pass and then followed
    clip = tmp_path / "far.mp4"
    faces = [
        MovingFace(size=16, start=(300, 200), end=(360, 220)),
        MovingFace(size=20, start=(500, 200), end=(560, 220)),
    ]
    boxes = make_sample_video(clip, width=1920, height=1080, frames=30, faces=faces, audio=False)
    out = tmp_path / "out.mp4"
    result = run_veil("combined", clip, "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    assert_faces_hidden(clip, out, boxes)
    without = run_veil(
        "combined", clip, "-o", tmp_path / "without.mp4", "--small-faces", "1", "--json"
    )
    assert json.loads(without.stdout)["results"][0]["faces"] < 2  # the pass finds them


# Every detection of the sample's faces scores below this: none is confident.
UNSURE = "0.9999"


@pytest.mark.slow
def test_faces_only_below_the_threshold_are_listed_as_candidates(
    sample_video: SampleVideo, tmp_path: Path
):
    result = run_veil(
        "analyze",
        sample_video.path,
        "-o",
        tmp_path,
        "--threshold",
        UNSURE,
        "--weak-faces",
        "0",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    [summary] = json.loads(result.stdout)["results"]
    assert summary["faces"] == 0
    assert len(summary["candidates"]) >= 2  # the sample's two faces
    assert all(c["detections"] >= 2 and c["confidence"] < 0.9999 for c in summary["candidates"])
    annotations = json.loads((tmp_path / "walk_annotations.json").read_text(encoding="utf-8"))
    assert annotations["facesDetected"] == 0
    assert len(annotations["candidates"]) == len(summary["candidates"])


@pytest.mark.slow
def test_a_weak_face_found_again_and_again_is_blurred(sample_video: SampleVideo, tmp_path: Path):
    out = tmp_path / "out.mp4"
    result = run_veil(
        "combined",
        sample_video.path,
        "-o",
        out,
        "--threshold",
        UNSURE,
        "--weak-faces",
        "3",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert_faces_hidden(sample_video.path, out, sample_video.boxes)
