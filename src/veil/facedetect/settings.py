"""What ``veil detect`` produces: the mode and the aggregate window/interval."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from veil.errors import VeilError

# Azure's documented defaults and limits for AggregateEmotionWindowMs/IntervalMs.
DEFAULT_WINDOW_MS = 500
DEFAULT_INTERVAL_MS = 500
WINDOW_RANGE_MS = (250, 2000)
INTERVAL_RANGE_MS = (250, 1000)


class FaceDetectMode(StrEnum):
    """Azure Face Detector's modes, spelt as veil's options."""

    FACES = "faces"
    PER_FACE_EMOTION = "per-face-emotion"
    AGGREGATE_EMOTION = "aggregate-emotion"

    @property
    def azure_name(self) -> str:
        """The spelling of Azure presets: Faces, PerFaceEmotion, AggregateEmotion."""
        return "".join(part.capitalize() for part in self.value.split("-"))

    @classmethod
    def parse(cls, value: object) -> FaceDetectMode | None:
        """Either spelling, any case ("aggregateEmotion", "per-face-emotion"); None if neither."""
        if not isinstance(value, str):
            return None
        folded = value.strip().lower().replace("-", "").replace("_", "")
        for mode in cls:
            if mode.value.replace("-", "") == folded:
                return mode
        return None

    @property
    def needs_emotions(self) -> bool:
        return self is not FaceDetectMode.FACES


@dataclass(frozen=True)
class AggregateSettings:
    """Aggregate emotion: one event every ``interval_ms``, each over the last ``window_ms``.

    Raises:
        VeilError: a value outside Azure's limits (window 250-2000 ms, interval
            250-1000 ms) or a window shorter than the interval.
    """

    window_ms: float = DEFAULT_WINDOW_MS
    interval_ms: float = DEFAULT_INTERVAL_MS

    def __post_init__(self) -> None:
        for name, value, (low, high) in (
            ("aggregate window", self.window_ms, WINDOW_RANGE_MS),
            ("aggregate interval", self.interval_ms, INTERVAL_RANGE_MS),
        ):
            if not low <= value <= high:
                raise VeilError(
                    f"{name} {_ms(value)} ms is out of range: it must be {low}-{high} ms"
                )
        if self.window_ms < self.interval_ms:
            raise VeilError(
                f"aggregate window {_ms(self.window_ms)} ms is shorter than the interval "
                f"{_ms(self.interval_ms)} ms: the window must be at least the interval"
            )


def _ms(value: float) -> str:
    return f"{value:g}"
