"""Live inputs through PyAV: cameras, network streams and files (the only reader here).

:func:`parse_source` says what a ``--source`` is; :class:`SourceStream` opens
it once and yields decoded pictures with their presentation time. A lost
connection raises :class:`SourceLost`; reconnecting and pacing are the
session's business.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.error

from veil.errors import InputError, VeilError
from veil.media import VideoPicture

log = logging.getLogger(__name__)

_NETWORK = re.compile(r"^(rtsps?|rtmps?|https?|srt|udp|tcp|rtp)://", re.IGNORECASE)
_DEFAULT_RATE = Fraction(25)


class SourceLost(VeilError):
    """The source stopped delivering frames (closed, timed out, broken)."""


@dataclass(frozen=True)
class SourceSpec:
    """What to open: ``url`` for av.open, with its demuxer and options.

    ``kind`` is ``camera``, ``network`` or ``file``.
    """

    url: str
    kind: str
    format: str | None = None
    options: dict[str, str] = field(default_factory=dict)


def parse_source(text: str, rtsp_transport: str = "tcp") -> SourceSpec:
    """``0`` or ``/dev/video0`` (camera), a URL (network), or a path (file).

    Raises:
        InputError: a path that does not exist.
    """
    if text.isdigit() or text.startswith("/dev/video"):
        device = f"/dev/video{text}" if text.isdigit() else text
        camera_format = "avfoundation" if sys.platform == "darwin" else "v4l2"
        url = text if camera_format == "avfoundation" else device
        return SourceSpec(url, "camera", camera_format)
    if _NETWORK.match(text):
        options = {}
        if text.lower().startswith("rtsp"):
            options["rtsp_transport"] = rtsp_transport
        return SourceSpec(text, "network", None, options)
    path = Path(text)
    if not path.is_file():
        raise InputError(
            path,
            "no such file (a live source is a camera index, /dev/videoN, a URL or a video file)",
        )
    return SourceSpec(str(path), "file")


def _rate(stream: av.VideoStream) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 1 <= float(rate) <= 240:
            return Fraction(rate.numerator, rate.denominator)
    return _DEFAULT_RATE


class SourceStream:
    """One connection to a source; use as a context manager, iterate :meth:`pictures`."""

    def __init__(self, spec: SourceSpec, open_timeout: float, read_timeout: float) -> None:
        self.spec = spec
        try:
            self._container = av.open(
                spec.url,
                mode="r",
                format=spec.format,
                options=spec.options,
                timeout=(open_timeout, read_timeout),
            )
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceLost(f"{spec.url}: cannot open ({_reason(exc)})") from exc
        if not self._container.streams.video:
            self._container.close()
            raise SourceLost(f"{spec.url}: no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self.rate = _rate(self._stream)
        tb = self._stream.time_base
        self.time_base = Fraction(tb.numerator, tb.denominator) if tb else Fraction(1, 90000)
        self.rejected_packets = 0

    def __enter__(self) -> SourceStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def pictures(self) -> Iterator[tuple[VideoPicture, float | None]]:
        """Decoded pictures and their presentation time in seconds (None if unknown).

        Ends at the end of the stream; raises SourceLost when the connection breaks.
        """
        index = 0
        try:
            for packet in self._container.demux(self._stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    # a damaged packet in a live stream: skip it, the next keyframe heals
                    self.rejected_packets += 1
                    continue
                for frame in frames:
                    pts = None if frame.pts is None else float(frame.pts * self.time_base)
                    yield VideoPicture(frame, index, Fraction(index) / self.rate), pts
                    index += 1
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceLost(f"{self.spec.url}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError):
        return (exc.strerror or type(exc).__name__).rstrip(".").lower()
    return str(exc) or type(exc).__name__
