"""Transcripts: timed words, where speech is, and the files they are written as.

Pure data and maths: :mod:`veil.audio.recognize` fills a :class:`Transcript`
from the models; this module finds speech in voice-activity scores and writes
the JSON and WebVTT forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

TRANSCRIPT_VERSION = 1


@dataclass(frozen=True)
class Word:
    """One recognised word: ``text`` lower case, heard from ``start`` to ``end`` s."""

    text: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Transcript:
    """What was said in a file: speech stretches (s) and the words in them."""

    duration: float
    speech: tuple[tuple[float, float], ...]
    words: tuple[Word, ...]

    def to_json(self) -> dict:
        return {
            "version": TRANSCRIPT_VERSION,
            "duration": round(self.duration, 3),
            "speech": [[round(s, 3), round(e, 3)] for s, e in self.speech],
            "words": [
                {
                    "word": w.text,
                    "start": round(w.start, 3),
                    "end": round(w.end, 3),
                    "confidence": round(w.confidence, 3),
                }
                for w in self.words
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> Transcript:
        words = tuple(Word(w["word"], w["start"], w["end"], w["confidence"]) for w in data["words"])
        speech = tuple((float(s), float(e)) for s, e in data["speech"])
        return cls(float(data["duration"]), speech, words)


def speech_spans(
    scores: NDArray[np.float32],
    hop: float,
    threshold: float = 0.5,
    min_speech: float = 0.25,
    min_silence: float = 0.3,
    pad: float = 0.1,
) -> list[tuple[float, float]]:
    """Stretches of speech (s) from voice-activity scores, one per ``hop`` seconds.

    Speech starts where a score reaches ``threshold`` and ends where scores
    stay under ``threshold - 0.15`` for ``min_silence``; stretches shorter than
    ``min_speech`` are dropped, the others padded by ``pad`` each side (the
    quiet ends of words score low) and joined where padding makes them meet.
    """
    spans: list[tuple[float, float]] = []
    start, quiet = None, 0
    low = threshold - 0.15
    for i, score in enumerate(scores):
        if start is None:
            if score >= threshold:
                start, quiet = i, 0
            continue
        quiet = quiet + 1 if score < low else 0
        if quiet * hop >= min_silence:
            spans.append((start * hop, (i - quiet + 1) * hop))
            start = None
    if start is not None:
        spans.append((start * hop, len(scores) * hop))
    total = len(scores) * hop
    padded: list[tuple[float, float]] = []
    for s, e in spans:
        if e - s < min_speech:
            continue
        s, e = max(0.0, s - pad), min(total, e + pad)
        if padded and s <= padded[-1][1]:
            padded[-1] = (padded[-1][0], e)
        else:
            padded.append((s, e))
    return padded


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def to_webvtt(words: Sequence[Word], gap: float = 0.8, longest: int = 12) -> str:
    """WebVTT captions: words grouped into cues at pauses over ``gap`` s, at most
    ``longest`` words a cue."""
    cues: list[list[Word]] = []
    for word in words:
        if cues and word.start - cues[-1][-1].end <= gap and len(cues[-1]) < longest:
            cues[-1].append(word)
        else:
            cues.append([word])
    blocks = ["WEBVTT", ""]
    for cue in cues:
        blocks.append(f"{_vtt_time(cue[0].start)} --> {_vtt_time(cue[-1].end)}")
        blocks.append(" ".join(w.text for w in cue))
        blocks.append("")
    return "\n".join(blocks)
