"""Every input format the issue names is redacted, its audio kept."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest

from evaluation.samples import make_sample_video
from helpers import decode_frames, region_diff, run_veil, shrink
from veil.media import EncoderSettings

# suffix -> (video codec, pixel format, audio codec or None)
FORMATS = {
    ".mov": ("libx264", "yuv420p", "pcm_s16le"),
    ".mkv": ("libx265", "yuv420p", "libopus"),
    ".webm": ("libvpx-vp9", "yuv420p", "libopus"),
    ".avi": ("mpeg4", "yuv420p", "mp3"),
    ".wmv": ("wmv2", "yuv420p", "wmav2"),
    ".gif": ("gif", "rgb8", None),
}


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_input_format_is_redacted_with_audio(tmp_path: Path, suffix: str):
    codec, pix_fmt, audio = FORMATS[suffix]
    src = tmp_path / f"clip{suffix}"
    boxes = make_sample_video(
        src,
        frames=8,
        times=[Fraction(i, 10) for i in range(8)],
        audio=audio is not None,
        settings=EncoderSettings(codec=codec, pixel_format=pix_fmt),
        audio_codec=audio or "aac",
    )
    out = tmp_path / "out.mp4"
    result = run_veil("combined", src, "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    before, after = decode_frames(src), decode_frames(out)
    assert len(after) == len(before) == 8
    for index in (0, 7):
        for box in boxes[index]:
            assert region_diff(before[index], after[index], shrink(box)) > 12
    with av.open(str(out)) as container:
        audio_out = [s.codec_context.codec.canonical_name for s in container.streams.audio]
    expected = {None: [], "pcm_s16le": ["aac"], "wmav2": ["aac"]}.get(audio, [audio])
    assert audio_out == [a.removeprefix("lib") for a in expected]


def test_an_intra_only_input_is_not_encoded_as_all_keyframes(tmp_path: Path):
    # MJPEG (some body-cams and IP cameras) has only keyframes; the output is
    # H.264 with its own frame types, not a copy of the input's
    src = tmp_path / "cam.avi"
    make_sample_video(
        src,
        frames=30,
        audio=False,
        settings=EncoderSettings(codec="mjpeg", pixel_format="yuvj420p"),
    )
    out = tmp_path / "out.mp4"
    assert run_veil("combined", src, "-o", out, "--quiet").returncode == 0
    with av.open(str(src)) as container:
        assert all(p.is_keyframe for p in container.demux(video=0) if p.size)
    with av.open(str(out)) as container:
        keyframes = sum(p.is_keyframe for p in container.demux(video=0) if p.size)
    assert keyframes < 5
