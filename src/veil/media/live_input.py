"""Live inputs through PyAV: one connection to a camera, a network stream or a file.

:class:`LiveInput` opens a source once and yields decoded pictures with their
presentation time. A lost connection raises :class:`SourceLost`; what to open
(:mod:`veil.live.sources`), reconnecting and pacing are the live session's
business.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fractions import Fraction

import av
import av.error

from veil.errors import VeilError
from veil.media.picture import VideoPicture
from veil.media.reader import ffmpeg_reason

_DEFAULT_RATE = Fraction(25)


class SourceLost(VeilError):
    """The source stopped delivering frames (closed, timed out, broken)."""


def _rate(stream: av.VideoStream) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 1 <= float(rate) <= 240:
            return Fraction(rate.numerator, rate.denominator)
    return _DEFAULT_RATE


class LiveInput:
    """One connection to a source; use as a context manager, iterate :meth:`pictures`.

    ``url``, ``format`` and ``options`` are FFmpeg's (the input, its demuxer and
    the demuxer's options); the timeouts are in seconds.

    Raises:
        SourceLost: the source cannot be opened, or has no video stream.
    """

    def __init__(
        self,
        url: str,
        format: str | None,
        options: Mapping[str, str],
        open_timeout: float,
        read_timeout: float,
    ) -> None:
        self.url = url
        try:
            self._container = av.open(
                url,
                mode="r",
                format=format,
                options=dict(options),
                timeout=(open_timeout, read_timeout),
            )
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceLost(f"{url}: cannot open ({_reason(exc)})") from exc
        if not self._container.streams.video:
            self._container.close()
            raise SourceLost(f"{url}: no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self.rate = _rate(self._stream)
        tb = self._stream.time_base
        self.time_base = Fraction(tb.numerator, tb.denominator) if tb else Fraction(1, 90000)
        self.rejected_packets = 0

    def __enter__(self) -> LiveInput:
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
            raise SourceLost(f"{self.url}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError):
        return ffmpeg_reason(exc)
    return str(exc) or type(exc).__name__
