"""Live outputs through PyAV: one H.264 encoder, its packets muxed to every output.

Each frame is encoded once (:class:`EncodedOutputs`); the packets go to every
:class:`Muxer`, each one output container. A muxer that may retry (a push
target) is closed on failure and reopened with backoff at a later keyframe;
the other outputs go on. Times are stream seconds, written in a 1/90000 time
base. Which outputs there are, and their FFmpeg options, is
:mod:`veil.live.sinks`'s business.
"""

from __future__ import annotations

import contextlib
import logging
import time
from fractions import Fraction

import av
import av.error

from veil.errors import VeilError
from veil.media.picture import VideoPicture
from veil.media.writer import EncoderSettings

log = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 90000)


class Muxer:
    """One output container fed with encoded packets; opened at the first keyframe.

    ``target``, ``format`` and ``options`` are FFmpeg's (a path, pattern or URL,
    its muxer and the muxer's options). ``retry``: a failure is logged and the
    target reopened with backoff at a later keyframe, instead of raised.
    """

    def __init__(
        self,
        label: str,
        target: str,
        format: str | None,
        options: dict[str, str],
        retry: bool = False,
    ) -> None:
        self.label, self.target, self.format, self.options = label, target, format, options
        self.retry = retry
        self._out: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._retry_at = 0.0
        self._backoff = 1.0

    def send(self, packet: av.Packet, width: int, height: int, rate: Fraction) -> None:
        if self._out is None:
            if not packet.is_keyframe or time.monotonic() < self._retry_at:
                return
            self._open(width, height, rate)
            if self._out is None:
                return
        copy = av.Packet(bytes(packet))
        copy.pts, copy.dts, copy.time_base = packet.pts, packet.dts, TIME_BASE
        copy.is_keyframe = packet.is_keyframe
        copy.stream = self._stream
        try:
            self._out.mux(copy)
        except (av.error.FFmpegError, OSError) as exc:
            self._failed(exc)

    def _open(self, width: int, height: int, rate: Fraction) -> None:
        try:
            self._out = av.open(
                self.target, mode="w", format=self.format, options=self.options, timeout=5.0
            )
            self._stream = self._out.add_mux_stream("h264", rate=rate, width=width, height=height)
            self._stream.time_base = TIME_BASE
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self._failed(exc)
            return
        if self.retry:
            log.warning("%s: connected to %s", self.label, self.target)
        self._backoff = 1.0

    def _failed(self, exc: BaseException) -> None:
        reason = getattr(exc, "strerror", None) or str(exc)
        if not self.retry:
            raise VeilError(f"{self.label} {self.target}: cannot write ({reason})") from exc
        log.warning(
            "%s %s failed (%s); retrying in %.0f s", self.label, self.target, reason, self._backoff
        )
        self._close_quietly()
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, 30.0)

    def _close_quietly(self) -> None:
        if self._out is not None:
            with contextlib.suppress(av.error.FFmpegError, OSError):
                self._out.close()
        self._out, self._stream = None, None

    def close(self) -> None:
        if self._out is None:
            return
        try:
            self._out.close()
        except (av.error.FFmpegError, OSError) as exc:
            if not self.retry:
                raise VeilError(f"{self.label} {self.target}: cannot finish ({exc})") from exc
        finally:
            self._out, self._stream = None, None


class EncodedOutputs:
    """Encodes redacted pictures once and muxes the packets to every output."""

    def __init__(
        self, muxers: list[Muxer], settings: EncoderSettings, rate: Fraction, gop: float
    ) -> None:
        self.muxers, self.settings, self.rate = muxers, settings, rate
        self.gop = max(1, round(gop * float(rate)))
        self._encoder: av.CodecContext | None = None
        self._size: tuple[int, int] | None = None
        self._last_pts = -1

    def _open_encoder(self, width: int, height: int) -> None:
        s = self.settings
        try:
            encoder = av.CodecContext.create(s.codec, "w")
        except (ValueError, av.error.FFmpegError) as exc:
            raise VeilError(f"video codec {s.codec!r} is not available: {exc}") from exc
        # 4:2:0 needs even sizes: the frame is scaled by a pixel if odd
        self._size = (width - width % 2, height - height % 2)
        encoder.width, encoder.height = self._size
        encoder.pix_fmt = s.pixel_format
        encoder.time_base = TIME_BASE
        encoder.framerate = self.rate
        encoder.gop_size = self.gop
        if s.codec.startswith("libx26"):
            encoder.options = {"crf": str(s.crf), "preset": s.preset, "tune": "zerolatency"}
        elif s.codec.endswith("nvenc"):
            encoder.options = {"cq": str(s.crf), "preset": "p2", "tune": "ll"}
        encoder.open()
        self._encoder = encoder

    def write(self, picture: VideoPicture, seconds: float) -> None:
        """Encode ``picture`` (already redacted) shown at ``seconds``."""
        frame = picture.frame
        if self._encoder is None:
            self._open_encoder(frame.width, frame.height)
        width, height = self._size
        if (
            frame.width,
            frame.height,
        ) != self._size or frame.format.name != self.settings.pixel_format:
            frame = frame.reformat(width=width, height=height, format=self.settings.pixel_format)
        pts = max(round(seconds / TIME_BASE), self._last_pts + 1)
        self._last_pts = pts
        frame.pts, frame.time_base = pts, TIME_BASE
        self._send(self._encoder.encode(frame))

    def _send(self, packets: list[av.Packet]) -> None:
        width, height = self._size
        for packet in packets:
            for muxer in self.muxers:
                muxer.send(packet, width, height, self.rate)

    def close(self) -> None:
        try:
            if self._encoder is not None:
                self._send(self._encoder.encode(None))
        finally:
            errors = []
            for muxer in self.muxers:
                try:
                    muxer.close()
                except VeilError as exc:
                    errors.append(exc)
            if errors:
                raise errors[0]
