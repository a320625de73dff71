"""Live outputs through PyAV: one H.264 encoder, its packets muxed to every output.

Each frame is encoded once; the packets go to a recording (one file, or
segments cut at keyframes by FFmpeg's segment muxer), an HLS folder and a
push target (RTSP/RTMP). MP4 files are fragmented, so a recording cut short
(power loss, SIGKILL) still plays up to its last fragment. A push target that
fails is closed and reopened with backoff at a later keyframe; the other
outputs go on. Times are stream seconds, written in a 1/90000 time base.
"""

from __future__ import annotations

import contextlib
import logging
import time
from fractions import Fraction
from pathlib import Path

import av
import av.error

from veil.errors import VeilError
from veil.media import EncoderSettings, VideoPicture

log = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 90000)
_FRAGMENTED_MP4 = "+frag_keyframe+empty_moov+default_base_moof"
_PUSH_FORMATS = {"rtsp": "rtsp", "rtsps": "rtsp", "rtmp": "flv", "rtmps": "flv", "srt": "mpegts"}


class _Muxer:
    """One output container fed with encoded packets; opened at the first keyframe."""

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


def recording_muxer(path: Path, segment: float | None, name: str) -> _Muxer:
    """A single file, or (``segment`` seconds) a folder/pattern of timestamped segments."""
    if segment is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        options = {"movflags": _FRAGMENTED_MP4} if path.suffix.lower() in (".mp4", ".mov") else {}
        return _Muxer("recording", str(path), None, options)
    pattern = path if "%" in path.name else path / f"{name}_%Y%m%d-%H%M%S.mp4"
    pattern.parent.mkdir(parents=True, exist_ok=True)
    inner = pattern.suffix.lower().lstrip(".") or "mp4"
    options = {
        "segment_time": f"{segment:g}",
        "strftime": "1",
        "reset_timestamps": "1",
        "segment_format": "mp4" if inner in ("mp4", "mov") else inner,
    }
    if inner in ("mp4", "mov"):
        options["segment_format_options"] = f"movflags={_FRAGMENTED_MP4}"
    return _Muxer("recording", str(pattern), "segment", options)


def hls_muxer(folder: Path, segment: float, list_size: int) -> _Muxer:
    """``folder/index.m3u8`` and its ``seg_NNNNN.ts``, old segments deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("seg_*.ts"):
        old.unlink(missing_ok=True)
    options = {
        "hls_time": f"{segment:g}",
        "hls_list_size": str(list_size),
        "hls_flags": "delete_segments+independent_segments+temp_file",
        "hls_segment_filename": str(folder / "seg_%05d.ts"),
    }
    return _Muxer("hls", str(folder / "index.m3u8"), "hls", options)


def push_muxer(url: str) -> _Muxer:
    """Publish to an RTSP/RTMP/SRT server; reconnected with backoff when it fails."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in _PUSH_FORMATS:
        raise VeilError(f"--push {url}: use an rtsp://, rtmp:// or srt:// URL")
    options = {"rtsp_transport": "tcp"} if _PUSH_FORMATS[scheme] == "rtsp" else {}
    return _Muxer("push", url, _PUSH_FORMATS[scheme], options, retry=True)


class EncodedOutputs:
    """Encodes redacted pictures once and muxes the packets to every output."""

    def __init__(
        self, muxers: list[_Muxer], settings: EncoderSettings, rate: Fraction, gop: float
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
