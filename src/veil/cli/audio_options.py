"""The audio options of ``veil redact`` and ``veil combined``: spans of sound to hide.

Their values reach :func:`veil.pipeline.options.build_config` as
:class:`~veil.pipeline.options.RunOptions` fields of the same names.
"""

from __future__ import annotations

import argparse

from veil.audio import Effect

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
