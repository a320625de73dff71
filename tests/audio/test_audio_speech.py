"""The speech step: transcripts, suggested spans and muting them, on speech synthesised here.

Speech comes from espeak-ng's Klatt voice (Debian ``espeak-ng``), which
PocketSphinx's US English model hears well; the tests skip without it or
without the ``audio`` extra.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from helpers import run_veil
from veil.audio.recognize import AUDIO_EXTRA, check_installed
from veil.audio.suggest import normalise_terms, suggest
from veil.audio.transcript import Word, speech_spans, to_webvtt
from veil.errors import VeilError
from veil.media import AudioClip, add_audio, read_audio, write_video

SENTENCE = "my name is john smith and my number is five five five one two three four"


def _speech_ready() -> bool:
    try:
        check_installed()
    except VeilError:
        return False
    return shutil.which("espeak-ng") is not None


needs_speech = pytest.mark.skipif(not _speech_ready(), reason="needs espeak-ng and veil[audio]")


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A video whose sound says SENTENCE from 0.5 s on (AAC in MP4)."""
    folder = tmp_path_factory.mktemp("talk")
    wav = folder / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us+klatt", "-s", "140", "-w", str(wav), SENTENCE], check=True
    )
    speech = read_audio(wav)
    assert speech is not None
    samples = np.zeros((1, int((speech.seconds + 1) * speech.rate)), np.float32)
    lead = speech.rate // 2
    samples[:, lead : lead + speech.samples.shape[-1]] = speech.samples
    frames = int(samples.shape[-1] / speech.rate * 10)
    video = folder / "video.mp4"
    write_video(
        video,
        [np.full((48, 64, 3), 40, np.uint8)] * frames,
        [Fraction(i, 10) for i in range(frames)],
    )
    path = folder / "talk.mp4"
    add_audio(video, AudioClip(samples, speech.rate), path, "aac")
    return path


@needs_speech
def test_analyze_writes_a_timed_transcript_and_captions(talk: Path, tmp_path: Path):
    terms = tmp_path / "names.txt"
    terms.write_text("John Smith\n")
    result = run_veil(
        "analyze", talk, "-o", tmp_path, "--transcript", "--audio-terms", terms,
        "--quality", "fast", "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    transcript = json.loads((tmp_path / "talk_transcript.json").read_text())
    words = [w["word"] for w in transcript["words"]]
    assert words.count("five") == 3 and "smith" in words
    assert all(0 <= w["confidence"] <= 1 for w in transcript["words"])
    assert all(0.4 < w["start"] < w["end"] < 7 for w in transcript["words"])
    kinds = {s["by"] for s in transcript["suggestions"]}
    assert {"digits", "terms"} <= kinds
    vtt = (tmp_path / "talk_transcript.vtt").read_text()
    assert vtt.startswith("WEBVTT\n") and "five five" in vtt
    # suggestions only: nothing is applied without --redact-audio
    assert "audioSpans" not in json.loads((tmp_path / "talk_annotations.json").read_text())


@needs_speech
def test_combined_mutes_spoken_numbers_without_review(talk: Path, tmp_path: Path):
    out = tmp_path / "out.mp4"
    result = run_veil(
        "combined", talk, "-o", out, "--redact-audio", "digits", "--quality", "fast", "--quiet",
        "--transcript",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    transcript = json.loads((tmp_path / "talk_transcript.json").read_text())
    digits = [s for s in transcript["suggestions"] if s["by"] == "digits"]
    assert digits and "five five five" in digits[0]["reason"]
    before, after = read_audio(talk), read_audio(out)
    assert before is not None and after is not None
    for span in digits:
        inside = slice(round(span["start"] * after.rate), round(span["end"] * after.rate))
        assert np.abs(after.samples[:, inside]).max() < 0.01
    first = transcript["words"][0]  # "my": kept
    kept = slice(round(first["start"] * after.rate), round(first["end"] * after.rate))
    assert np.abs(after.samples[:, kept]).max() > 0.05


@needs_speech
def test_a_video_without_sound_has_an_empty_transcript(tmp_path: Path):
    src = tmp_path / "mute.mp4"
    write_video(src, [np.zeros((48, 64, 3), np.uint8)] * 5, [Fraction(i, 10) for i in range(5)])
    result = run_veil("analyze", src, "-o", tmp_path, "--transcript", "--quality", "fast")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "mute_transcript.json").read_text())["words"] == []


def test_a_missing_speech_package_is_one_line_naming_the_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "pocketsphinx" else real(name)
    )
    with pytest.raises(VeilError) as caught:
        check_installed()
    assert AUDIO_EXTRA in str(caught.value) and "\n" not in str(caught.value)


def _words(text: str, start: float = 0.0, step: float = 0.3) -> list[Word]:
    return [
        Word(w, start + i * step, start + i * step + 0.25, 0.9) for i, w in enumerate(text.split())
    ]


def test_suggestions_find_numbers_spellings_and_listed_names():
    words = _words("call john smith on five five five one two or spell it k x b now i said")
    spans = suggest(words, normalise_terms(["John Smith  # the witness", "", "nobody here"]))
    found = {(s.by, s.reason) for s in spans}
    assert found == {
        ("terms", "john smith"),
        ("digits", "five five five one two"),
        ("letters", "k x b"),
    }
    digits = next(s for s in spans if s.by == "digits")
    assert digits.start < words[4].start and digits.end > words[8].end


def test_a_lone_number_word_or_one_letter_is_not_a_detail():
    assert suggest(_words("i have one dog and a cat")) == []


def test_speech_spans_join_close_stretches_and_drop_clicks():
    hop = 0.032
    scores = np.zeros(200, np.float32)
    scores[10:40] = 0.9  # speech
    scores[45:70] = 0.9  # after a short pause: the same stretch
    scores[150:153] = 0.9  # a click: too short
    spans = speech_spans(scores, hop)
    assert len(spans) == 1
    assert spans[0][0] == pytest.approx(10 * hop - 0.1) and spans[0][1] == pytest.approx(
        70 * hop + 0.1
    )


def test_captions_break_at_pauses():
    vtt = to_webvtt(_words("hello there") + _words("again", start=5))
    assert vtt.splitlines()[2:4] == ["00:00:00.000 --> 00:00:00.550", "hello there"]
    assert "00:00:05.000 --> 00:00:05.250" in vtt
