"""Audio redaction on synthesised speech over street and stage noise: what is hidden, what is kept.

Usage:
    python bench/eval_audio.py [--out out/eval-audio] [--snr 10 5 0] [--quick]
        [--data ../shared/data]

Sentences with names, streets and numbers are spoken by espeak-ng (Debian
``espeak-ng``; its Klatt voices, at two speeds), one word or name at a time so
that every sensitive word's place is known to the sample, and mixed over
background sound at each ``--snr`` (dB, speech power over noise power where
speech is): the real street sound of ``DATA/videos/street-1080p.mp4``, looped,
under a made-up stage/crowd babble (other voices, reversed so no word in it is
understood) and traffic rumble. Without the data folder the noise is the
made-up part alone.

Two ways of finding what to hide are scored on the same sound:

* ``transcript``: veil's speech step (Silero VAD + PocketSphinx with its
  language model, then :func:`veil.audio.suggest.suggest` with the names and
  streets listed as terms);
* ``kws``: PocketSphinx keyword spotting for the digit words and the terms,
  in the same speech stretches, its hits turned into spans the same way.

Scores: share of sensitive words (digits; listed names and streets, each a
unit) wholly muted (every 10 ms of it that carries sound inside a span), share
of the other speech's sounding 10 ms windows left unmuted, word error rate of
the transcript, the speech step's speed against real time (wall and CPU, two
threads), and, for one track per level, the audio/video offset after ``veil
redact`` applied the spans (cross-correlation of untouched sound, in ms).
Results go to ``OUT/results.json``; tables are printed as markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from veil.audio import AudioSpan
from veil.audio.recognize import RATE, Recognizer, VoiceActivity, transcribe
from veil.audio.suggest import NUMBER_WORDS, suggest
from veil.audio.transcript import Word, speech_spans
from veil.media import AudioClip, add_audio, read_audio, write_video

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["john smith", "mary johnson", "peter brown", "susan miller", "david wilson"]
STREETS = ["main street", "oak avenue", "park road", "church lane"]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
PLAIN = [
    "we walked along the river and talked about the weather",
    "the meeting was moved to the afternoon because of the rain",
    "she said the coffee was cold again",
]
VOICES = ["en-us+klatt", "en-us+klatt3"]
SPEEDS = [130, 170]
WINDOW = RATE // 100  # 10 ms


@dataclass(frozen=True)
class Item:
    """A stretch of the clean track: its text, kind (plain, digit, term), samples."""

    text: str
    kind: str
    start: int
    end: int


def _say(text: str, voice: str, speed: int, folder: Path) -> np.ndarray:
    wav = folder / "say.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
        check=True,
        capture_output=True,
    )
    clip = read_audio(wav, rate=RATE, mono=True)
    samples = clip.samples[0]
    # trim espeak's silent lead and tail, keeping soft onsets (f, s, th)
    sound = np.flatnonzero(np.abs(samples) > 0.001)
    if not len(sound):
        return samples
    margin = RATE // 50
    return samples[max(0, sound[0] - margin) : sound[-1] + margin]


def _sentences(rng: np.random.Generator, count: int) -> list[list[tuple[str, str]]]:
    """Each sentence as (text, kind) pieces; every digit is its own piece."""

    def digits(n: int) -> list[tuple[str, str]]:
        return [(DIGITS[d], "digit") for d in rng.integers(0, 10, n)]

    def name() -> tuple[str, str]:
        return (NAMES[rng.integers(len(NAMES))], "term")

    makers = [
        lambda: [("my name is", "plain"), name(), ("and my number is", "plain"), *digits(7)],
        lambda: [("please call", "plain"), name(), ("at", "plain"), *digits(4)],
        lambda: [("i live at", "plain"), *digits(2), (STREETS[rng.integers(4)], "term")],
        lambda: [(PLAIN[rng.integers(len(PLAIN))], "plain")],
        lambda: [("the card ends in", "plain"), *digits(4), ("thank you", "plain")],
    ]
    return [makers[i % len(makers)]() for i in rng.permutation(count)]


def _align(samples: np.ndarray, text: str) -> list[tuple[int, int]]:
    """Where each word of ``text`` is in ``samples``: PocketSphinx forced alignment."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=RATE, loglevel="FATAL")
    decoder.set_align_text(text)
    decoder.start_utt()
    decoder.process_raw((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)
    decoder.end_utt()
    step = RATE // 100
    words = [s for s in decoder.seg() if not s.word.startswith(("<", "["))]
    assert len(words) == len(text.split()), (text, [s.word for s in words])
    return [(s.start_frame * step, (s.end_frame + 1) * step) for s in words]


def speak_track(voice: str, speed: int, rng: np.random.Generator, folder: Path):
    """A clean track of five sentences, each spoken whole, and the place of every piece.

    Word places come from forced alignment of the clean speech to its text.
    """
    pieces, items, at = [np.zeros(RATE // 2, np.float32)], [], RATE // 2
    for sentence in _sentences(rng, 5):
        text = " ".join(t for t, _ in sentence)
        said = _say(text, voice, speed, folder)
        places = iter(_align(said, text))
        for piece, kind in sentence:
            spots = [next(places) for _ in piece.split()]
            items.append(Item(piece, kind, at + spots[0][0], at + spots[-1][1]))
        pause = np.zeros(int(RATE * rng.uniform(0.5, 0.9)), np.float32)
        pieces += [said, pause]
        at += len(said) + len(pause)
    return np.concatenate(pieces), items


def _babble(length: int, rng: np.random.Generator, folder: Path) -> np.ndarray:
    """A crowd: six voices saying other things, reversed, overlapping."""
    out = np.zeros(length, np.float32)
    for variant in ("klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6"):
        said = _say(" ".join(PLAIN) + " " + " ".join(NAMES), f"en-us+{variant}", 150, folder)
        said = said[::-1]
        reps = np.tile(said, length // len(said) + 2)
        shift = int(rng.integers(len(said)))
        out += reps[shift : shift + length]
    return out


def make_noise(length: int, rng: np.random.Generator, folder: Path, data: Path) -> np.ndarray:
    """Street sound (real where the data folder has it) + stage babble + traffic rumble."""
    rumble = np.cumsum(rng.standard_normal(length)).astype(np.float32)
    rumble -= np.convolve(rumble, np.ones(400) / 400, mode="same")  # no DC drift
    rumble *= 1 + 0.5 * np.sin(2 * np.pi * 0.2 * np.arange(length) / RATE)
    parts = [rumble / np.std(rumble), _babble(length, rng, folder) / 0.1]
    street_video = data / "videos" / "street-1080p.mp4"
    if street_video.is_file():
        street = read_audio(street_video, rate=RATE, mono=True).samples[0]
        looped = np.tile(street, length // len(street) + 1)[:length]
        parts.append(2 * looped / np.std(looped))
    noise = sum(p / np.std(p) for p in parts)
    return (noise / np.std(noise)).astype(np.float32)


def mix(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    speaking = np.abs(clean) > 0.01
    speech_power = np.mean(clean[speaking] ** 2)
    scale = np.sqrt(speech_power / 10 ** (snr_db / 10))
    mixed = clean + scale * noise
    return (mixed / max(1.0, np.abs(mixed).max())).astype(np.float32)


def sounding(clean: np.ndarray, item: Item) -> np.ndarray:
    """Indices of the item's 10 ms windows that carry sound (within 30 dB of its peak)."""
    first, last = item.start // WINDOW, (item.end + WINDOW - 1) // WINDOW
    windows = np.arange(first, last)
    rms = np.array([np.sqrt(np.mean(clean[w * WINDOW : (w + 1) * WINDOW] ** 2)) for w in windows])
    return windows[rms >= rms.max() * 10 ** (-30 / 20)]


def muted_windows(spans: list[AudioSpan], length: int) -> np.ndarray:
    mask = np.zeros(length // WINDOW + 1, bool)
    for span in spans:
        mask[int(span.start * 100) : int(np.ceil(span.end * 100))] = True
    return mask


def score(spans: list[AudioSpan], clean: np.ndarray, items: list[Item]) -> dict:
    mask = muted_windows(spans, len(clean))
    hidden = {"digit": [], "term": []}
    plain_total = plain_muted = 0
    for item in items:
        windows = sounding(clean, item)
        if item.kind == "plain":
            plain_total += len(windows)
            plain_muted += int(mask[windows].sum())
        else:
            hidden[item.kind].append(bool(mask[windows].all()))
    return {
        "digits_muted": float(np.mean(hidden["digit"])),
        "terms_muted": float(np.mean(hidden["term"])),
        "sensitive_muted": float(np.mean(hidden["digit"] + hidden["term"])),
        "other_muted": plain_muted / max(plain_total, 1),
        "digits": len(hidden["digit"]),
        "terms": len(hidden["term"]),
    }


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance in words."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        prev, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ref != hyp))
    return row[-1]


def kws_spans(samples: np.ndarray, vad: VoiceActivity, threshold: float, folder: Path):
    """Keyword spotting for the digit words and the terms, turned into spans like suggest's."""
    from pocketsphinx import Decoder

    phrases = folder / "keyphrases.txt"
    lines = [f"{w} /{threshold:g}/" for w in sorted(NUMBER_WORDS & set(DIGITS))]
    lines += [f"{t} /{threshold * 1e-5:g}/" for t in NAMES + STREETS]
    phrases.write_text("\n".join(lines) + "\n")
    decoder = Decoder(samprate=RATE, loglevel="FATAL", kws=str(phrases))
    words = []
    for start, end in speech_spans(vad.scores(samples), vad.hop):
        piece = samples[round(start * RATE) : round(end * RATE)]
        decoder.start_utt()
        decoder.process_raw((np.clip(piece, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)
        decoder.end_utt()
        for seg in decoder.seg() or ():  # None when nothing was spotted
            text = seg.word.strip()
            words.append(
                Word(text, start + seg.start_frame / 100, start + (seg.end_frame + 1) / 100, 1.0)
            )
    words.sort(key=lambda w: w.start)
    # a phrase is one "word" here; suggest() needs terms as word tuples of it
    return suggest(words, [(t,) for t in NAMES + STREETS])


def render_offset(mixed: np.ndarray, spans: list[AudioSpan], folder: Path) -> dict:
    """Run ``veil redact`` with the spans; the A/V offset after it, in ms."""
    frames = int(len(mixed) / RATE * 10)
    video, src, out = folder / "v.mp4", folder / "talk.mp4", folder / "talk_redacted.mp4"
    write_video(
        video,
        [np.full((48, 64, 3), 60, np.uint8)] * frames,
        [Fraction(i, 10) for i in range(frames)],
    )
    add_audio(video, AudioClip(mixed[None, :], RATE), src, "aac")
    annotations = folder / "a.json"
    entries = [{"start": s.start, "end": s.end, "effect": "mute", "by": s.by} for s in spans]
    annotations.write_text(json.dumps({
        "version": 1, "timescale": 10, "framerate": 10, "width": 64, "height": 48,
        "fragments": [], "audioSpans": entries,
    }))  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "veil", "redact", str(src), "--annotations", str(annotations),
         "-o", str(out), "--quiet"], check=True,
    )  # fmt: skip
    before, after = read_audio(src).samples[0], read_audio(out).samples[0]
    kept = ~np.repeat(muted_windows(spans, len(before)), WINDOW)[: len(before)]
    lo = int(np.argmax(kept[RATE:])) + RATE  # an untouched second after the first
    core = before[lo : lo + RATE // 2]
    reach = RATE // 10
    scores = [float(np.dot(core, after[lo + k : lo + k + len(core)])) for k in range(-reach, reach)]
    lag = int(np.argmax(scores)) - reach
    return {"av_offset_ms": 1000 * lag / RATE, "frame_ms": 100.0}


def run_level(tracks, noise, snr, args, vad, recognizer, folder) -> dict:
    results = {"snr": snr, "transcript": [], "wer": [], "speed": []}
    results |= {f"kws {t:g}": [] for t in args.kws_threshold}
    for clean, items in tracks:
        mixed = mix(clean, noise[: len(clean)], snr)
        wall, cpu = time.perf_counter(), time.process_time()
        transcript = transcribe(mixed, 0.0, 2, vad, recognizer)
        spans = suggest(transcript.words, [tuple(t.split()) for t in NAMES + STREETS])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        seconds = len(mixed) / RATE
        results["speed"].append({"audio_s": seconds, "wall_s": wall, "cpu_s": cpu})
        results["transcript"].append(score(spans, clean, items))
        results.setdefault("heard", []).append(" ".join(w.text for w in transcript.words))
        reference = " ".join(i.text for i in items).split()
        hypothesis = [w.text for w in transcript.words]
        results["wer"].append(word_errors(reference, hypothesis) / len(reference))
        for t in args.kws_threshold:
            results[f"kws {t:g}"].append(score(kws_spans(mixed, vad, t, folder), clean, items))
        if "render" not in results:
            results["render"] = render_offset(mixed, spans, folder)
    return results


def _mean(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def report(levels: list[dict]) -> None:
    print(
        "| SNR dB | method | digits muted | terms muted | other speech muted | WER | A/V offset |"
    )
    print("|---|---|---|---|---|---|---|")
    for level in levels:
        methods = [k for k in level if k == "transcript" or k.startswith("kws ")]
        for method in methods:
            rows = level[method]
            wer = f"{np.mean(level['wer']):.1%}" if method == "transcript" else ""
            offset = f"{level['render']['av_offset_ms']:.1f} ms" if method == "transcript" else ""
            print(
                f"| {level['snr']:g} | {method} | {_mean(rows, 'digits_muted'):.1%} "
                f"| {_mean(rows, 'terms_muted'):.1%} | {_mean(rows, 'other_muted'):.1%} "
                f"| {wer} | {offset} |"
            )
    speed = [s for level in levels for s in level["speed"]]
    audio = sum(s["audio_s"] for s in speed)
    wall, cpu = sum(s["wall_s"] for s in speed), sum(s["cpu_s"] for s in speed)
    print(
        f"\nspeech step: {audio:.0f} s of sound in {wall:.0f} s wall ({audio / wall:.1f}x real "
        f"time), {cpu:.0f} s CPU ({audio / cpu:.1f}x real time per CPU-second), 2 threads"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "eval-audio")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--snr", type=float, nargs="+", default=[10, 5, 0])
    parser.add_argument("--quick", action="store_true", help="one voice, one speed")
    parser.add_argument(
        "--kws-threshold",
        type=float,
        nargs="+",
        default=[1e-1, 1e-3],
        help="keyword spotting thresholds to score (a digit word's; a phrase's is 1e-5 of it)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: apt-get install -y espeak-ng", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        conditions = [(v, s) for v in VOICES for s in SPEEDS][: 1 if args.quick else None]
        tracks = [speak_track(v, s, rng, folder) for v, s in conditions]
        longest = max(len(c) for c, _ in tracks)
        noise = make_noise(longest, rng, folder, args.data)
        vad, recognizer = VoiceActivity(), Recognizer()
        levels = [run_level(tracks, noise, snr, args, vad, recognizer, folder) for snr in args.snr]
    report(levels)
    meta = {"voices": conditions, "cpu": os.cpu_count(), "levels": levels}
    (args.out / "results.json").write_text(json.dumps(meta, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
