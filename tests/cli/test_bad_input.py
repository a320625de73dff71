"""Bad input: one line naming the file and the problem, exit code 2, nothing left behind."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from evaluation.samples import make_sample_video
from helpers import SampleVideo, decode_frames, run_veil


def _assert_refused(result, name: str, problem: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0] and problem in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def _faststart_copy(sample: SampleVideo, folder: Path) -> bytes:
    # a veil output has its index first, so cutting it leaves a readable, shorter file
    out = folder / "faststart.mp4"
    assert run_veil("combined", sample.path, "-o", out, "--quiet").returncode == 0
    data = out.read_bytes()
    out.unlink()
    return data


def _truncated(sample: SampleVideo, folder: Path) -> bytes:
    data = _faststart_copy(sample, folder)
    return data[: len(data) * 6 // 10]


def _corrupt_middle(sample: SampleVideo, folder: Path) -> bytes:
    data = bytearray(_faststart_copy(sample, folder))
    rng = random.Random(1)
    middle = len(data) // 2
    data[middle : middle + 3000] = bytes(rng.randrange(256) for _ in range(3000))
    return bytes(data)


BAD_VIDEOS: dict[str, tuple[Callable[[SampleVideo, Path], bytes], str]] = {
    "zero bytes": (lambda s, f: b"", "file is empty"),
    "not a video": (lambda s, f: b"this is a text file\n" * 10, "not a readable video"),
    "truncated": (_truncated, "truncated"),
    "corrupt in the middle": (_corrupt_middle, "damaged"),
}


@pytest.mark.slow
@pytest.mark.parametrize("command", ["combined", "analyze"])
@pytest.mark.parametrize("case", list(BAD_VIDEOS))
def test_bad_video_is_refused_without_output(
    sample_video: SampleVideo, tmp_path: Path, case: str, command: str
):
    make, problem = BAD_VIDEOS[case]
    src = tmp_path / "in" / "clip.mp4"
    src.parent.mkdir()
    src.write_bytes(make(sample_video, tmp_path))
    out = tmp_path / "out"
    result = run_veil(command, src, "-o", out, "--quiet")
    _assert_refused(result, "clip.mp4", problem)
    assert not out.exists() or not any(out.iterdir())


def test_missing_file(tmp_path: Path):
    _assert_refused(
        run_veil("combined", tmp_path / "nope.mp4", "-o", tmp_path), "nope.mp4", "no such file"
    )


def test_output_onto_the_input_is_refused(sample_video: SampleVideo, tmp_path: Path):
    src = tmp_path / "mine.mp4"
    shutil.copy(sample_video.path, src)
    before = src.read_bytes()
    result = run_veil("combined", src, "-o", src, "--quiet")
    _assert_refused(result, "mine.mp4", "overwrite the input")
    assert src.read_bytes() == before


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("analysed")
    video = folder / "clip.mp4"
    make_sample_video(video, frames=6, audio=False)
    assert run_veil("analyze", video, "-o", folder, "--quiet").returncode == 0
    return video, folder / "clip_annotations.json"


BAD_ANNOTATIONS = {
    "not json": ("{ this is not json", "not valid JSON"),
    "json but not annotations": ('{"hello": "world"}', "not an annotations file"),
    "negative width": (None, "greater than 0"),
}


@pytest.mark.parametrize("case", list(BAD_ANNOTATIONS))
def test_bad_annotations_are_refused(analysed, tmp_path: Path, case: str):
    video, good = analysed
    text, problem = BAD_ANNOTATIONS[case]
    if text is None:
        data = json.loads(good.read_text())
        data["fragments"][0]["events"][0][0]["width"] = -0.1
        text = json.dumps(data)
    bad = tmp_path / "edited.json"
    bad.write_text(text)
    out = tmp_path / "out.mp4"
    result = run_veil("redact", video, "--annotations", bad, "-o", out, "--quiet")
    _assert_refused(result, "edited.json", problem)
    assert not out.exists()


def test_annotations_of_another_video_are_refused(analysed, tmp_path: Path):
    video, good = analysed
    data = json.loads(good.read_text())
    data["width"], data["height"] = 480, 480
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    out = tmp_path / "out.mp4"
    result = run_veil("redact", video, "--annotations", other, "-o", out, "--quiet")
    _assert_refused(result, "other.json", "not the same video")
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [("1\n2\nabc\n", "line 3"), ("1\n-4\n", "line 2"), ("7\n", "not in")],
    ids=["word", "negative", "unknown id"],
)
def test_bad_id_list_is_refused(analysed, tmp_path: Path, content: str, problem: str):
    video, annotations = analysed
    ids = tmp_path / "ids.txt"
    ids.write_text(content)
    out = tmp_path / "out.mp4"
    result = run_veil(
        "redact", video, "--annotations", annotations, "--ids", ids, "-o", out, "--quiet"
    )
    assert result.returncode == 2 and problem in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("preset", "problem"),
    [
        ({"version": "1.0", "options": {"mode": "combined", "blurTpye": "High"}}, "blurTpye"),
        ({"version": "1.0", "options": {"mode": "combined", "blurType": "Fuzzy"}}, "Fuzzy"),
        ({"version": "1.0", "options": {"mode": "analyze"}}, "preset mode is 'analyze'"),
    ],
    ids=["unknown key", "unknown blur", "other mode"],
)
def test_bad_preset_is_refused(sample_video: SampleVideo, tmp_path: Path, preset, problem):
    preset_file = tmp_path / "preset.json"
    preset_file.write_text(json.dumps(preset))
    out = tmp_path / "out.mp4"
    result = run_veil("combined", sample_video.path, "--preset", preset_file, "-o", out)
    _assert_refused(result, "preset.json", problem)
    assert not out.exists()


@pytest.mark.slow
def test_other_inputs_are_still_processed_after_a_bad_one(tmp_path: Path):
    good = tmp_path / "good.mp4"
    make_sample_video(good, frames=4, audio=False)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"junk")
    out = tmp_path / "out"
    result = run_veil("combined", bad, good, "-o", out, "--quiet")
    assert result.returncode == 2
    assert "bad.mp4" in result.stderr
    assert [p.name for p in out.iterdir()] == ["good_redacted.mp4"]


# the NVIDIA encoder and decoder: a real output where a GPU is present, one line elsewhere
@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--codec", "h264_nvenc", "h264_nvenc"),
        ("--hwaccel", "cuda", "--hwaccel cuda: the device cannot be used here"),
    ],
)
def test_gpu_coding_works_or_is_refused_in_one_line(
    sample_video: SampleVideo, tmp_path: Path, option: str, value: str, problem: str
):
    out = tmp_path / "gpu.mp4"
    result = run_veil("combined", sample_video.path, "-o", out, option, value)
    if result.returncode == 0:
        assert len(decode_frames(out)) == len(sample_video.boxes)
        return
    _assert_refused(result, "", problem)
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_decoding_device_is_refused(sample_video: SampleVideo, tmp_path: Path):
    result = run_veil("analyze", sample_video.path, "-o", tmp_path, "--hwaccel", "abacus")
    _assert_refused(result, "--hwaccel abacus", "not a decoding device this FFmpeg knows")
    assert list(tmp_path.iterdir()) == []
