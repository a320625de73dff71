"""What the live threads hand each other: decoded frames, and the source's frame rate."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction

from veil.media import VideoPicture


@dataclass
class LiveFrame:
    picture: VideoPicture
    time: float  # stream seconds
    arrival: float  # clock() when decoded


class SourceRate:
    """The source's frame rate, once its first connection says it."""

    def __init__(self) -> None:
        self.value = Fraction(25)
        self._known = threading.Event()

    def set(self, rate: Fraction) -> None:
        self.value = rate
        self._known.set()

    @property
    def known(self) -> bool:
        return self._known.is_set()

    def wait(self, timeout: float) -> bool:
        """True once the rate is known, False after ``timeout`` seconds without it."""
        return self._known.wait(timeout)
