"""Running statistics of a live session, as JSON and Prometheus text: no I/O.

Rates are over the last ``window`` seconds; latencies are percentiles of the
last ``samples`` values.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from veil.urls import masked

_WINDOW = 5.0
_SAMPLES = 600


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class _Rate:
    def __init__(self, window: float) -> None:
        self.window = window
        self.times: deque[float] = deque()

    def add(self, now: float) -> None:
        self.times.append(now)
        self._trim(now)

    def per_second(self, now: float, started: float) -> float:
        self._trim(now)
        span = min(self.window, now - started)
        return len(self.times) / span if span > 0 else 0.0

    def _trim(self, now: float) -> None:
        while self.times and self.times[0] < now - self.window:
            self.times.popleft()


class LiveStats:
    """Counters and windows updated by the session's threads (thread-safe)."""

    def __init__(
        self,
        name: str,
        source: str,
        clock: Callable[[], float] = time.monotonic,
        window: float = _WINDOW,
    ) -> None:
        self.name, self.source, self.clock = name, source, clock
        self.started = clock()
        self._lock = threading.Lock()
        self._in, self._out = _Rate(window), _Rate(window)
        self._latency: deque[float] = deque(maxlen=_SAMPLES)
        self._detect_latency: deque[float] = deque(maxlen=_SAMPLES)
        self._inference: deque[float] = deque(maxlen=_SAMPLES)
        self.frames_in = self.frames_out = self.dropped = self.repeated = 0
        self.covered_whole = self.detections = self.faces = self.reconnects = 0
        self.gaps: deque[dict] = deque(maxlen=20)
        self.connected = False
        self.source_fps: float | None = None
        self.error: str | None = None

    def frame_in(self) -> None:
        with self._lock:
            self.frames_in += 1
            self._in.add(self.clock())

    def frame_out(self, latency: float | None, repeated: bool, covered_whole: bool) -> None:
        with self._lock:
            self.frames_out += 1
            self._out.add(self.clock())
            if latency is not None:
                self._latency.append(latency)
            self.repeated += repeated
            self.covered_whole += covered_whole

    def drop(self, count: int = 1) -> None:
        with self._lock:
            self.dropped += count

    def detection(self, inference: float, latency: float, faces: int) -> None:
        with self._lock:
            self.detections += 1
            self.faces = faces
            self._inference.append(inference)
            self._detect_latency.append(latency)

    def gap(self, started: float, seconds: float, reason: str) -> None:
        with self._lock:
            self.gaps.append(
                {
                    "at": round(started - self.started, 3),
                    "seconds": round(seconds, 3),
                    "reason": reason,
                }
            )

    def snapshot(self) -> dict:
        """Everything, JSON-ready; times in milliseconds unless named ``_s``."""
        with self._lock:
            now = self.clock()
            latency, dlat = list(self._latency), list(self._detect_latency)
            inference = list(self._inference)
            return {
                "name": self.name,
                "source": masked(self.source),
                "connected": self.connected,
                "uptime_s": round(now - self.started, 3),
                "source_fps": self.source_fps,
                "input_fps": round(self._in.per_second(now, self.started), 2),
                "output_fps": round(self._out.per_second(now, self.started), 2),
                "frames_in": self.frames_in,
                "frames_out": self.frames_out,
                "dropped_frames": self.dropped,
                "repeated_frames": self.repeated,
                "covered_whole_frames": self.covered_whole,
                "detections": self.detections,
                "faces": self.faces,
                "reconnects": self.reconnects,
                "gaps": list(self.gaps),
                "detection_latency_ms": _ms(dlat),
                "inference_ms": _ms(inference),
                "latency_ms": _ms(latency),
                "error": self.error,
            }


def _ms(values: list[float]) -> dict:
    def r(q: float) -> float | None:
        v = _percentile(values, q)
        return None if v is None else round(v * 1000, 2)

    return {"p50": r(0.5), "p95": r(0.95), "max": r(1.0), "samples": len(values)}


def summary_line(s: dict) -> str:
    """One human line for the terminal."""

    def ms(d: dict) -> str:
        return "-" if d["p50"] is None else f"{d['p50']:.0f}/{d['p95']:.0f} ms"

    state = "up" if s["connected"] else "DOWN"
    return (
        f"{s['name']} [{state}] in {s['input_fps']:.1f} fps, out {s['output_fps']:.1f} fps, "
        f"dropped {s['dropped_frames']}, repeated {s['repeated_frames']}, "
        f"detect {ms(s['detection_latency_ms'])}, latency p50/p95 {ms(s['latency_ms'])}, "
        f"faces {s['faces']}, reconnects {s['reconnects']}"
    )


# name, type, help, how to read it from a snapshot
_METRICS: list[tuple[str, str, str, Callable[[dict], float | None]]] = [
    ("veil_live_up", "gauge", "1 while the source is connected", lambda s: float(s["connected"])),
    ("veil_live_input_fps", "gauge", "frames decoded per second", lambda s: s["input_fps"]),
    ("veil_live_output_fps", "gauge", "frames emitted per second", lambda s: s["output_fps"]),
    ("veil_live_frames_in_total", "counter", "frames decoded", lambda s: s["frames_in"]),
    ("veil_live_frames_out_total", "counter", "frames emitted", lambda s: s["frames_out"]),
    ("veil_live_dropped_frames_total", "counter", "frames dropped", lambda s: s["dropped_frames"]),
    (
        "veil_live_repeated_frames_total",
        "counter",
        "last redacted frame repeated during source gaps",
        lambda s: s["repeated_frames"],
    ),
    (
        "veil_live_covered_whole_frames_total",
        "counter",
        "frames covered whole (no recent detection)",
        lambda s: s["covered_whole_frames"],
    ),
    ("veil_live_detections_total", "counter", "detector runs", lambda s: s["detections"]),
    ("veil_live_faces", "gauge", "faces in the last detection", lambda s: s["faces"]),
    ("veil_live_reconnects_total", "counter", "source reconnections", lambda s: s["reconnects"]),
]
_QUANTILES = [
    ("veil_live_latency_seconds", "latency_ms", "decoded-to-written latency"),
    ("veil_live_detection_latency_seconds", "detection_latency_ms", "frame-to-faces latency"),
    ("veil_live_inference_seconds", "inference_ms", "detector run time"),
]


def prometheus_text(snapshots: Iterable[dict]) -> str:
    """Prometheus text exposition (format 0.0.4) of one or more streams."""
    snapshots = list(snapshots)
    lines: list[str] = []
    for metric, kind, help_text, read in _METRICS:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}"]
        for s in snapshots:
            lines.append(f"{metric}{{stream={_label(s['name'])}}} {_num(read(s))}")
    for metric, key, help_text in _QUANTILES:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} summary"]
        for s in snapshots:
            for q in ("p50", "p95"):
                value = s[key][q]
                quantile = "0.5" if q == "p50" else "0.95"
                seconds = None if value is None else value / 1000
                lines.append(
                    f'{metric}{{stream={_label(s["name"])},quantile="{quantile}"}} {_num(seconds)}'
                )
            lines.append(f"{metric}_count{{stream={_label(s['name'])}}} {s[key]['samples']}")
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _num(value: float | None) -> str:
    return "NaN" if value is None else repr(float(value))
