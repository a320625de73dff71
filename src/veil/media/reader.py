"""Decoding: probe a video and yield its frames in storage orientation.

A file is either read whole or refused. Packets the decoder rejects and frames
it marks corrupt are counted in a :class:`DecodeReport`; fewer frames than the
container announces means the file is truncated, and that is an error, never a
silently shorter output.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.error

from veil.errors import InputError
from veil.types import DecodedFrame, MediaInfo

log = logging.getLogger(__name__)

# A container's duration is rounded and may include a trailing audio tail, so a
# decoded video ending within this much of it is complete.
_DURATION_SLACK = Fraction(1, 2)


@dataclass
class DecodeReport:
    """What went wrong while decoding, for the summary and the job report."""

    frames: int = 0
    damaged_frames: list[int] = field(default_factory=list)
    rejected_packets: int = 0


def open_input(path: Path) -> av.container.InputContainer:
    """Open ``path`` for reading, turning every failure into a one-line InputError."""
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, not a video")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty (0 bytes)")
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise InputError(path, f"not a readable video ({_ffmpeg_reason(exc)})") from exc


def _ffmpeg_reason(exc: av.error.FFmpegError) -> str:
    return (exc.strerror or type(exc).__name__).rstrip(".").lower()


def _video_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
    if not container.streams.video:
        raise InputError(path, "contains no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.name:
        raise InputError(path, "video codec is not supported")
    return stream


def _rotation(first: av.VideoFrame) -> int:
    """Display rotation in counter-clockwise degrees (from the frame's display matrix)."""
    return round(first.rotation) % 360


def probe(path: Path) -> MediaInfo:
    """Read a video's size, timing and rotation (decodes only the first frame)."""
    with open_input(path) as container:
        stream = _video_stream(container, path)
        first = _first_frame(container, stream, path)
        time_base = Fraction(stream.time_base.numerator, stream.time_base.denominator)
        rate = stream.guessed_rate or stream.average_rate or stream.base_rate
        frame_rate = Fraction(rate.numerator, rate.denominator) if rate else Fraction(25)
        duration = _stream_duration(container, stream, time_base)
        return MediaInfo(
            width=first.width,
            height=first.height,
            frame_rate=frame_rate,
            time_base=time_base,
            frame_count=stream.frames,
            duration=duration,
            rotation=_rotation(first),
        )


def _stream_duration(
    container: av.container.InputContainer, stream: av.VideoStream, time_base: Fraction
) -> Fraction:
    if stream.duration:
        return stream.duration * time_base
    if container.duration:
        return Fraction(container.duration, av.time_base)
    return Fraction(0)


def _first_frame(
    container: av.container.InputContainer, stream: av.VideoStream, path: Path
) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as exc:
        raise InputError(path, f"video cannot be decoded ({_ffmpeg_reason(exc)})") from exc
    raise InputError(path, "contains no decodable video frames")


def decode_packet(packet: av.Packet, report: DecodeReport, path: Path) -> Iterator[av.VideoFrame]:
    """Decode one video packet, counting what the decoder rejects or conceals."""
    try:
        frames = packet.decode()
    except av.error.InvalidDataError:
        report.rejected_packets += 1
        log.warning("%s: damaged video packet at pts %s skipped", path, packet.pts)
        return
    except av.error.FFmpegError as exc:
        raise InputError(path, f"video cannot be decoded ({_ffmpeg_reason(exc)})") from exc
    for frame in frames:
        if frame.is_corrupt:
            report.damaged_frames.append(report.frames)
        report.frames += 1
        yield frame


def frame_time(frame: av.VideoFrame, index: int, info: MediaInfo) -> Fraction:
    """Exact presentation time in seconds; files without timestamps get index / rate."""
    if frame.pts is None:
        return index / info.frame_rate
    return frame.pts * info.time_base


def check_complete(report: DecodeReport, info: MediaInfo, last_end: Fraction, path: Path) -> None:
    """Refuse a video that decoded to fewer frames than it announces."""
    if report.frames == 0:
        raise InputError(path, "contains no decodable video frames")
    if info.frame_count and report.frames < info.frame_count:
        problem = (
            f"damaged: {report.rejected_packets} video packet(s) cannot be decoded"
            if report.rejected_packets
            else "truncated"
        )
        raise InputError(path, f"{problem}; decoded {report.frames} of {info.frame_count} frames")
    if not info.frame_count and info.duration and last_end + _DURATION_SLACK < info.duration:
        raise InputError(
            path,
            f"truncated or damaged: video stops at {float(last_end):.2f} s "
            f"of {float(info.duration):.2f} s",
        )


def read_frames(path: Path, report: DecodeReport | None = None) -> Iterator[DecodedFrame]:
    """Yield every frame of the first video stream as RGB, in storage orientation.

    Raises InputError (after the last frame) if the video turns out truncated.
    """
    info = probe(path)
    report = report if report is not None else DecodeReport()
    last_end = Fraction(0)
    with open_input(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        for packet in container.demux(stream):
            for frame in decode_packet(packet, report, path):
                index = report.frames - 1
                time = frame_time(frame, index, info)
                last_end = time + 1 / info.frame_rate
                yield DecodedFrame(index, time, frame.to_ndarray(format="rgb24"))
    check_complete(report, info, last_end, path)
