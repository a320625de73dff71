"""The audio options: spans of sound to hide, and the speech step.

--mute/--bleep/--tone (``redact``, ``combined``) reach
:func:`veil.pipeline.options.build_config` as
:class:`~veil.pipeline.options.RunOptions` fields of the same names;
--transcript/--audio-terms/--redact-audio (``analyze``, ``combined``) run
:func:`veil.pipeline.speech.listen` around the face job.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from veil.audio import Effect
from veil.audio.recognize import AUDIO_EXTRA
from veil.audio.suggest import KINDS, normalise_terms, parse_kinds
from veil.media import is_image
from veil.pipeline import JobResult, PipelineConfig, annotations_path
from veil.pipeline.speech import SpeechOptions, add_to_annotations, listen
from veil.userfiles import read_bytes

_HOW = {
    Effect.MUTE: "silence",
    Effect.BLEEP: "a 1 kHz bleep",
    Effect.TONE: "a quiet 440 Hz tone",
}


def add_audio_options(parser: argparse.ArgumentParser) -> None:
    """--mute, --bleep and --tone, each repeatable."""
    group = parser.add_argument_group(
        "audio", "times are seconds (12.5), m:ss.s (1:02.3) or h:mm:ss.s on the video's timeline"
    )
    for effect, how in _HOW.items():
        group.add_argument(
            f"--{effect.value}",
            action="append",
            metavar="START-END",
            help=f"replace the sound from START to END with {how}; repeat for more spans",
        )


def add_speech_options(parser: argparse.ArgumentParser) -> None:
    """--transcript, --audio-terms and --redact-audio (need the audio extra)."""
    group = parser.add_argument_group(
        "speech", f"transcribed on this machine (needs: {AUDIO_EXTRA}; see docs/audio.md)"
    )
    group.add_argument(
        "--transcript",
        action="store_true",
        help="write <stem>_transcript.json (words, times, confidence, suggested spans) "
        "and <stem>_transcript.vtt",
    )
    group.add_argument(
        "--audio-terms",
        type=Path,
        metavar="FILE",
        help="words or phrases to find in the speech (names, streets), one a line",
    )
    group.add_argument(
        "--redact-audio",
        type=parse_kinds,
        metavar="KINDS",
        help=f"mute what the speech suggestions find, without review: {', '.join(KINDS)} "
        "(comma-separated); analyze adds the spans to the annotations",
    )


def speech_options(args: argparse.Namespace) -> SpeechOptions:
    """The speech step the options ask for (falsy when none)."""
    terms: tuple[tuple[str, ...], ...] = ()
    if getattr(args, "audio_terms", None) is not None:
        text = read_bytes(args.audio_terms).decode("utf-8-sig", errors="replace")
        terms = normalise_terms(text.splitlines())
    return SpeechOptions(
        transcript=getattr(args, "transcript", False),
        terms=terms,
        redact=getattr(args, "redact_audio", None) or frozenset(),
    )


def hear_after_analysis(
    result: JobResult, src: Path, out_dir: Path, speech: SpeechOptions
) -> JobResult:
    """``analyze``: the speech step after the faces; spans to apply join the annotations."""
    if not speech or is_image(src):
        return result
    heard = listen(src, out_dir, speech)
    add_to_annotations(annotations_path(out_dir, src.stem), heard.applied)
    result.outputs.extend(heard.outputs)
    return result


def hear_before_render(
    config: PipelineConfig, src: Path, out_dir: Path, speech: SpeechOptions
) -> tuple[PipelineConfig, list[Path]]:
    """``combined``: the speech step first, so its spans are applied as the output is written."""
    if not speech or is_image(src):
        return config, []
    heard = listen(src, out_dir, speech)
    return replace(config, audio_spans=config.audio_spans + heard.applied), heard.outputs
