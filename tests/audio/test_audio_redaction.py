"""Hiding spans of sound: ``veil redact --mute/--bleep`` on real encoded media.

How the checks measure, since a lossy codec never gives back the samples it
was given:

* Where a span was applied is found from the output alone, in 1 ms windows:
  a window counts as replaced where the output is closer to the effect (silence
  or the bleep) than to the input. Codecs smear a hard edge over their
  transform (AAC 1024 samples, MP3 1152, Opus 20 ms), but the crossing stays
  within a millisecond or two of the sample where it was cut; the target is
  10 ms.
* Inside a span (30 ms in from each edge, past that smear) the output must be
  the effect to within -20 dB of the sound it hides: words 20 dB under the
  bleep or under silence's codec noise are not understood.
* Outside the spans (30 ms away) a lossless track (PCM) must be bit-identical;
  a lossy one went through one more generation of its own codec at its own bit
  rate, and must match the decoded input to 20 dB SNR (measured here: 26 dB
  MP3, 37 dB Opus, 49-60 dB AAC).
* Sync: the output's audio is cross-correlated with the input's over untouched
  sound (lag must be under a frame, it is 0), and the video frames keep their
  times.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from helpers import run_veil
from veil.audio import AudioSpan, Effect, merged, parse_span, parse_time
from veil.audio.spans import effect_samples
from veil.errors import VeilError
from veil.media import AudioClip, add_audio, read_audio, write_video

FPS = 25
SECONDS = 3
EMPTY_ANNOTATIONS = {
    "version": 1,
    "timescale": FPS,
    "offset": 0,
    "framerate": FPS,
    "width": 64,
    "height": 48,
    "fragments": [],
}
MUTE = (0.523, 1.071)
BLEEP = (1.6049, 2.1337)


def _signal(rate: int, channels: int) -> np.ndarray:
    """Non-harmonic tones under a slow swell: no two places alike, so lags show."""
    t = np.arange(SECONDS * rate) / rate
    tones = sum(
        0.1 * np.sin(2 * np.pi * hz * t + phase)
        for hz, phase in [(220, 0), (347, 1), (513, 2), (1187, 3)]
    )
    mono = (tones * (1 + 0.5 * np.sin(2 * np.pi * 1.3 * t))).astype(np.float32)
    return np.stack([mono * (0.8 + 0.2 * c) for c in range(channels)])


def _media(folder: Path, codec: str, rate: int, channels: int, suffix: str) -> Path:
    frames = [np.full((48, 64, 3), i * 3 % 255, np.uint8) for i in range(SECONDS * FPS)]
    video = folder / "video.mp4"
    write_video(video, frames, [Fraction(i, FPS) for i in range(SECONDS * FPS)])
    path = folder / f"speech{suffix}"
    add_audio(video, AudioClip(_signal(rate, channels), rate), path, codec)
    return path


def _windows(x: np.ndarray, rate: int) -> np.ndarray:
    """RMS of 1 ms windows of a (channels, n) array, over all channels."""
    w = rate // 1000
    n = x.shape[-1] // w
    return np.sqrt((x[:, : n * w].reshape(x.shape[0], n, w) ** 2).mean(axis=(0, 2)))


def _replaced(out: np.ndarray, src: np.ndarray, effect: np.ndarray, rate: int) -> np.ndarray:
    return _windows(out - effect, rate) < _windows(out - src, rate)


def _edges(replaced: np.ndarray, near: tuple[float, float]) -> tuple[float, float]:
    """Start and end (s) of the run of replaced 1 ms windows around ``near``."""
    middle = int(sum(near) / 2 * 1000)
    assert replaced[middle]
    start = middle
    while start > 0 and replaced[start - 1]:
        start -= 1
    end = middle
    while end < len(replaced) and replaced[end]:
        end += 1
    return start / 1000, end / 1000


def _lag(a: np.ndarray, b: np.ndarray, rate: int, at: float, reach: int = 1500) -> int:
    """Samples by which ``b`` is late against ``a`` around ``at`` seconds."""
    lo = int(at * rate)
    core = a[lo : lo + rate // 5]
    scores = [float(np.dot(core, b[lo + k : lo + k + len(core)])) for k in range(-reach, reach)]
    return int(np.argmax(scores)) - reach


def _video_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(f.time) for f in container.decode(video=0)]


def _span_mask(n: int, rate: int, spans: list[tuple[float, float]], margin: float) -> np.ndarray:
    mask = np.zeros(n, bool)
    for start, end in spans:
        mask[max(0, round((start - margin) * rate)) : round((end + margin) * rate)] = True
    return mask


CODECS = [
    ("aac", 48000, 2, ".mp4"),
    ("aac", 44100, 1, ".mp4"),
    ("libopus", 48000, 1, ".mkv"),
    ("libopus", 48000, 2, ".mp4"),
    ("libmp3lame", 44100, 2, ".mp4"),
    ("pcm_s16le", 44100, 1, ".mov"),
    ("pcm_s16le", 48000, 2, ".mkv"),
]


@pytest.mark.parametrize(("codec", "rate", "channels", "suffix"), CODECS)
def test_muted_and_bleeped_spans_land_where_asked_and_the_rest_is_kept(
    tmp_path: Path, codec: str, rate: int, channels: int, suffix: str
):
    src = _media(tmp_path, codec, rate, channels, suffix)
    annotations = tmp_path / "speech_annotations.json"
    annotations.write_text(json.dumps(EMPTY_ANNOTATIONS))
    out = tmp_path / f"out{suffix}"
    mute = f"{MUTE[0]:.4f}-{MUTE[1]:.4f}"
    bleep = f"0:{BLEEP[0]:07.4f}-0:{BLEEP[1]:07.4f}"
    result = run_veil(
        "redact", src, "--annotations", annotations, "--mute", mute, "--bleep", bleep,
        "-o", out, "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    before, after = read_audio(src), read_audio(out)
    assert before is not None and after is not None and after.rate == rate
    n = min(before.samples.shape[-1], after.samples.shape[-1])
    a, b = before.samples[:, :n], after.samples[:, :n]
    assert before.start == after.start

    # sync: untouched sound is where it was, video frames keep their times
    assert abs(_lag(a[0], b[0], rate, at=0.2)) < rate / FPS
    assert abs(_lag(a[0], b[0], rate, at=2.4)) < rate / FPS
    assert _video_times(out) == _video_times(src)

    bleep_signal = effect_samples(Effect.BLEEP, 0, n, rate)
    for (start, end), effect in [(MUTE, np.zeros(n, np.float32)), (BLEEP, bleep_signal)]:
        found = _edges(_replaced(b, a, effect, rate), (start, end))
        assert abs(found[0] - start) <= 0.010 and abs(found[1] - end) <= 0.010, found
        inside = slice(round((start + 0.03) * rate), round((end - 0.03) * rate))
        left = np.sqrt(np.mean((b[:, inside] - effect[inside]) ** 2))
        hidden = np.sqrt(np.mean(a[:, inside] ** 2))
        assert left < 0.1 * hidden

    kept = ~_span_mask(n, rate, [MUTE, BLEEP], margin=0.03)
    kept[: round(0.05 * rate)] = kept[-round(0.05 * rate) :] = False  # codec start/end
    if codec.startswith("pcm_"):
        assert np.array_equal(a[:, kept], b[:, kept])
    else:
        noise = np.mean((b[:, kept] - a[:, kept]) ** 2)
        assert 10 * np.log10(np.mean(a[:, kept] ** 2) / noise) > 20


def test_spans_in_the_annotations_are_applied_too(tmp_path: Path):
    src = _media(tmp_path, "pcm_s16le", 48000, 1, ".mkv")
    annotations = tmp_path / "a.json"
    spans = [{"start": 0.5, "end": 0.75, "effect": "mute", "by": "reviewer", "reason": "name"}]
    annotations.write_text(json.dumps({**EMPTY_ANNOTATIONS, "audioSpans": spans}))
    out = tmp_path / "out.mkv"
    result = run_veil("redact", src, "--annotations", annotations, "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    before, after = read_audio(src), read_audio(out)
    assert before is not None and after is not None
    muted = np.flatnonzero(np.all(after.samples == 0, axis=0) & np.any(before.samples != 0, axis=0))
    assert (muted[0], muted[-1] + 1) == (24000, 36000)


def test_a_file_without_sound_is_unchanged_by_audio_options(tmp_path: Path):
    frames = [np.full((48, 64, 3), i * 3, np.uint8) for i in range(20)]
    src = tmp_path / "silent.mp4"
    write_video(src, frames, [Fraction(i, FPS) for i in range(20)])
    annotations = tmp_path / "a.json"
    annotations.write_text(json.dumps(EMPTY_ANNOTATIONS))
    out = tmp_path / "out.mp4"
    result = run_veil(
        "redact", src, "--annotations", annotations, "--mute", "0-0.5", "--tone", "0.2-0.4",
        "-o", out, "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_audio(out) is None
    assert _video_times(out) == _video_times(src)


def test_a_bad_span_is_one_line_naming_the_option(tmp_path: Path):
    src = _media(tmp_path, "aac", 48000, 1, ".mp4")
    annotations = tmp_path / "a.json"
    annotations.write_text(json.dumps(EMPTY_ANNOTATIONS))
    result = run_veil("redact", src, "--annotations", annotations, "--bleep", "2-1")
    assert result.returncode == 2
    assert "--bleep" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_times_are_read_as_seconds_minutes_or_hours():
    assert parse_time("12.5") == 12.5
    assert parse_time("1:02.3") == pytest.approx(62.3)
    assert parse_time("1:00:02") == 3602
    for bad in ("", "1:75", "a", "-3", "1-2"):
        with pytest.raises(VeilError):
            parse_time(bad)
    assert parse_span("1:02.3-1:03", Effect.BLEEP) == AudioSpan(62.3, 63.0, Effect.BLEEP)


def test_overlapping_spans_do_not_overlap_after_merging_and_mute_wins():
    spans = [
        AudioSpan(1, 3, Effect.BLEEP),
        AudioSpan(2, 4, Effect.MUTE),
        AudioSpan(3.5, 5, Effect.MUTE),
        AudioSpan(6, 7, Effect.TONE),
    ]
    assert [(s.start, s.end, s.effect) for s in merged(spans)] == [
        (1, 2, Effect.BLEEP),
        (2, 5, Effect.MUTE),
        (6, 7, Effect.TONE),
    ]
