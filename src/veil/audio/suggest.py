"""Suggested spans: what in a transcript looks like a personal detail.

Spoken digit strings (phone, ID and plate numbers), spelled letters, and the
words or phrases a user lists (names, streets). Pure: words in, spans out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from veil.audio.spans import AudioSpan, Effect
from veil.audio.transcript import Word
from veil.errors import VeilError

KINDS = ("digits", "letters", "terms")
NUMBER_WORDS = frozenset(
    [
        "zero",
        "oh",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "double",
        "triple",
    ]
)
# the dictionary spells a letter name as the letter ("a" and "i" are words
# too: a spelling must run to three letters, so "a" alone is never taken)
LETTER_WORDS = frozenset("abcdefghijklmnopqrstuvwxyz")
# a word's times are the recogniser's guess: hide a little more each side
PAD = 0.12
# words further apart than this are not one number or one spelling
_RUN_GAP = 0.8


def _runs(words: Sequence[Word], members: frozenset[str], shortest: int) -> list[list[Word]]:
    runs: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if word.text in members and (not current or word.start - current[-1].end <= _RUN_GAP):
            current.append(word)
            continue
        if len(current) >= shortest:
            runs.append(current)
        current = [word] if word.text in members else []
    if len(current) >= shortest:
        runs.append(current)
    return runs


def _span(words: Sequence[Word], by: str, effect: Effect) -> AudioSpan:
    start = max(0.0, words[0].start - PAD)
    return AudioSpan(start, words[-1].end + PAD, effect, by, " ".join(w.text for w in words))


def normalise_terms(lines: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """Terms as word tuples, lower case, punctuation dropped; blank lines and # comments skipped."""
    terms = []
    for line in lines:
        line = line.split("#", 1)[0]
        words = tuple(re.findall(r"[a-z0-9']+", line.lower()))
        if words:
            terms.append(words)
    return tuple(dict.fromkeys(terms))


def _term_matches(words: Sequence[Word], terms: Sequence[tuple[str, ...]]) -> list[list[Word]]:
    found = []
    texts = [w.text for w in words]
    for term in terms:
        size = len(term)
        for i in range(len(texts) - size + 1):
            if tuple(texts[i : i + size]) == term:
                found.append(list(words[i : i + size]))
    return found


def suggest(
    words: Sequence[Word],
    terms: Sequence[tuple[str, ...]] = (),
    effect: Effect = Effect.MUTE,
) -> list[AudioSpan]:
    """Spans to propose for review, sorted by start, each saying which rule found it."""
    spans = [_span(run, "digits", effect) for run in _runs(words, NUMBER_WORDS, 2)]
    spans += [_span(run, "letters", effect) for run in _runs(words, LETTER_WORDS, 3)]
    spans += [_span(match, "terms", effect) for match in _term_matches(words, terms)]
    return sorted(spans, key=lambda s: (s.start, s.end))


def parse_kinds(text: str) -> frozenset[str]:
    """``digits,terms`` -> the kinds of suggestion to apply without review."""
    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    unknown = sorted(kinds - set(KINDS))
    if unknown or not kinds:
        raise VeilError(
            f"--redact-audio {text!r}: choose from {', '.join(KINDS)} (comma-separated)"
        )
    return kinds
