"""Settings of a live session: frozen values, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from veil.errors import VeilError
from veil.live.faces import FaceMotion
from veil.media import EncoderSettings
from veil.pipeline import PipelineConfig

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}

# Live defaults: fast enough for 720p30 next to the detector on two cores, and
# no encoder look-ahead (it would add frames of latency).
LIVE_ENCODER = EncoderSettings(codec="libx264", crf=23, preset="superfast")


def parse_duration(text: str) -> float:
    """``"10m"``, ``"30s"``, ``"1.5h"``, ``"500ms"`` or plain seconds -> seconds."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise VeilError(f"not a duration: {text!r} (use e.g. 30s, 10m, 1h)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def check_name(name: str) -> str:
    """A stream name that is safe as a folder name and a URL path segment."""
    if not _NAME.match(name) or ".." in name:
        raise VeilError(f"stream name {name!r}: use letters, digits, '_', '-' and '.' (at most 64)")
    return name


@dataclass(frozen=True)
class OutputConfig:
    """Where redacted frames go; every field is optional.

    Attributes:
        record: a file (``.mp4``, ``.mkv``, ``.ts``), or with ``segment`` a folder
            (or a strftime pattern) of segment files.
        segment: seconds per recorded segment; None records one file.
        hls_root: HLS is written to ``hls_root/<name>/index.m3u8`` (what the
            ``/live/<name>`` page plays).
        hls_time: target HLS segment length in seconds.
        hls_list_size: segments kept in the playlist (older ones are deleted).
        push: an ``rtsp://`` or ``rtmp://`` server to publish to.
        mjpeg: encode JPEGs for ``/live/<name>/mjpeg`` (only served in-process).
        gop: seconds between keyframes (segments and late joiners start on one).
    """

    record: Path | None = None
    segment: float | None = None
    hls_root: Path | None = None
    hls_time: float = 2.0
    hls_list_size: int = 6
    push: str | None = None
    mjpeg: bool = False
    gop: float = 1.0

    @property
    def encoded(self) -> bool:
        return self.record is not None or self.hls_root is not None or self.push is not None


@dataclass(frozen=True)
class LiveConfig:
    """A live session.

    Attributes:
        source: camera index, ``/dev/videoN``, a URL or a file.
        name: the stream's name (HLS folder, URLs, statistics labels).
        realtime: play a file at its own frame rate (else as fast as it is read).
        loop: start a file again at its end.
        queue_frames: frames the source may be ahead of the emitter; when full
            the oldest is dropped (and counted).
        max_detection_age: seconds; a frame further than this from the last
            detection is covered whole (also before the first detection).
        stall: seconds without a frame after which the emitter repeats the
            last redacted frame at the source rate.
        reconnect_min, reconnect_max: backoff bounds between reconnection tries.
        open_timeout, read_timeout: seconds before a network source counts as down.
        duration: stop after this many seconds (None: until stopped).
        stats_every: seconds between statistics lines/files.
        rtsp_transport: ``tcp`` (default, works through NAT) or ``udp``.
        delay: seconds each frame is held before redaction, so that detections
            of the frames just after it can land first (more latency, fewer
            frames with a new face uncovered); 0 = emit at once.
        hold_frames: if set, ``motion.hold`` becomes this many frames at the
            source's rate (``--max-gap``).
    """

    source: str
    name: str = "live"
    pipeline: PipelineConfig = field(default_factory=lambda: PipelineConfig(encoder=LIVE_ENCODER))
    outputs: OutputConfig = OutputConfig()
    motion: FaceMotion = field(default_factory=FaceMotion)
    realtime: bool = False
    loop: bool = False
    queue_frames: int = 8
    max_detection_age: float = 1.0
    stall: float = 0.5
    reconnect_min: float = 0.5
    reconnect_max: float = 10.0
    open_timeout: float = 10.0
    read_timeout: float = 5.0
    duration: float | None = None
    stats_every: float = 5.0
    rtsp_transport: str = "tcp"
    delay: float = 0.0
    hold_frames: int | None = None
