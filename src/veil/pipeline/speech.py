"""The speech step of a job: transcribe a file's sound, write the transcript, suggest spans.

``veil analyze --transcript`` writes ``<stem>_transcript.json`` (words with
times and confidence, speech stretches, suggested spans) and
``<stem>_transcript.vtt``; ``--redact-audio`` turns the suggestions of the
chosen kinds into spans that are applied without review.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from veil.annotations import AudioSpanEntry, read_annotations, write_annotations
from veil.atomic import write_atomic
from veil.audio import AudioSpan
from veil.audio.recognize import RATE, Recognizer, check_installed, transcribe
from veil.audio.suggest import suggest
from veil.audio.transcript import Transcript, to_webvtt
from veil.media import read_audio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechOptions:
    """What a job does with speech.

    Attributes:
        transcript: write the transcript files.
        terms: words or phrases to find (each a tuple of lower-case words).
        redact: the kinds of suggestion (digits, letters, terms) applied
            without review.
        threads: threads decoding speech.
    """

    transcript: bool = False
    terms: tuple[tuple[str, ...], ...] = ()
    redact: frozenset[str] = field(default_factory=frozenset)
    threads: int = 2

    def __bool__(self) -> bool:
        return self.transcript or bool(self.redact)


@dataclass(frozen=True)
class Heard:
    """The speech step's result: files written, suggestions, and those to apply."""

    outputs: list[Path]
    suggestions: list[AudioSpan]
    applied: tuple[AudioSpan, ...]


def transcript_paths(out_dir: Path, stem: str) -> tuple[Path, Path]:
    return out_dir / f"{stem}_transcript.json", out_dir / f"{stem}_transcript.vtt"


def listen(src: Path, out_dir: Path, options: SpeechOptions) -> Heard:
    """Transcribe ``src`` and suggest spans; a file without sound has no words (no error)."""
    check_installed()
    clip = read_audio(src, rate=RATE, mono=True)
    recognizer = Recognizer()
    if clip is None:
        log.info("%s: no audio stream, nothing to transcribe", src)
        transcript = Transcript(0.0, (), ())
    else:
        transcript = transcribe(clip.samples[0], clip.start, options.threads, recognizer=recognizer)
    missing = [t for t in options.terms if not all(map(recognizer.known, t))]
    if missing:
        log.warning(
            "%s: not in the speech dictionary, so never heard: %s",
            src,
            ", ".join(" ".join(t) for t in missing),
        )
    suggestions = suggest(transcript.words, options.terms)
    applied = tuple(s for s in suggestions if s.by in options.redact)
    outputs = []
    if options.transcript:
        outputs = _write(transcript, suggestions, *transcript_paths(out_dir, src.stem))
    return Heard(outputs, suggestions, applied)


def _write(
    transcript: Transcript, suggestions: list[AudioSpan], json_path: Path, vtt_path: Path
) -> list[Path]:
    document = transcript.to_json()
    document["suggestions"] = [_entry(s).model_dump(mode="json") for s in suggestions]
    write_atomic(vtt_path, to_webvtt(transcript.words).encode("utf-8"))
    write_atomic(json_path, (json.dumps(document, indent=1) + "\n").encode("utf-8"))
    return [json_path, vtt_path]


def _entry(span: AudioSpan) -> AudioSpanEntry:
    return AudioSpanEntry(
        start=round(span.start, 3),
        end=round(span.end, 3),
        effect=span.effect.value,
        by=span.by,
        reason=span.reason or None,
    )


def add_to_annotations(path: Path, spans: tuple[AudioSpan, ...]) -> None:
    """Add ``spans`` to the annotations file's ``audioSpans`` (rewritten atomically)."""
    if not spans:
        return
    annotations = read_annotations(path)
    entries = (*(annotations.audioSpans or ()), *map(_entry, spans))
    write_annotations(annotations.model_copy(update={"audioSpans": entries}), path)
