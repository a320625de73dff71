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
from av.codec.hwaccel import HWAccel, hwdevices_available

from veil.errors import InputError, VeilError
from veil.media.picture import VideoPicture
from veil.media.prefetch import prefetch
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
    repaired_timestamps: int = 0


def open_input(path: Path, hwaccel: str | None = None) -> av.container.InputContainer:
    """Open ``path`` for reading, turning every failure into a one-line error.

    ``hwaccel`` names a hardware decoding device (``"cuda"``: NVDEC); frames
    come back in system memory, and a stream the device cannot decode falls
    back to the software decoder.

    Raises:
        InputError: the file cannot be read.
        VeilError: the hardware device is unknown or cannot be used here.
    """
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, not a video")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty (0 bytes)")
    if hwaccel is not None:
        return _open_on_device(path, hwaccel)
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        raise InputError(path, f"not a readable video ({ffmpeg_reason(exc)})") from exc


def _open_on_device(path: Path, device: str) -> av.container.InputContainer:
    available = hwdevices_available()
    if device not in available:
        raise VeilError(
            f"--hwaccel {device}: not a decoding device this FFmpeg knows "
            f"(it knows: {', '.join(available) or 'none'})"
        )
    try:
        return av.open(str(path), mode="r", hwaccel=HWAccel(device))
    except av.error.FFmpegError as exc:
        # the device, or the file? Opening it without the device tells.
        open_input(path).close()
        raise VeilError(
            f"--hwaccel {device}: the device cannot be used here ({ffmpeg_reason(exc)})"
        ) from exc


def ffmpeg_reason(exc: av.error.FFmpegError) -> str:
    """FFmpeg's words for ``exc``, for a message ("invalid data found when processing input")."""
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
            video_duration_known=bool(stream.duration),
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
        raise InputError(path, f"video cannot be decoded ({ffmpeg_reason(exc)})") from exc
    raise InputError(path, "contains no decodable video frames")


class VideoDecoder:
    """Decodes a video stream packet by packet into numbered, timed pictures.

    Counts what the decoder rejects or conceals in ``report``, and makes frame
    times strictly increasing: files with missing or repeated timestamps (seen
    in WMV and AVI) get the previous time plus one frame, so the output never
    has two frames at one instant.
    """

    def __init__(self, path: Path, info: MediaInfo, report: DecodeReport) -> None:
        self.path, self.info, self.report = path, info, report
        self._last: Fraction | None = None

    def decode(self, packet: av.Packet) -> Iterator[VideoPicture]:
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            self.report.rejected_packets += 1
            log.warning("%s: damaged video packet at pts %s skipped", self.path, packet.pts)
            return
        except av.error.FFmpegError as exc:
            raise InputError(self.path, f"video cannot be decoded ({ffmpeg_reason(exc)})") from exc
        for frame in frames:
            index = self.report.frames
            if frame.is_corrupt:
                self.report.damaged_frames.append(index)
            self.report.frames += 1
            yield VideoPicture(frame, index, self._time(frame))

    def _time(self, frame: av.VideoFrame) -> Fraction:
        step = 1 / self.info.frame_rate
        if frame.pts is not None:
            time = frame.pts * self.info.time_base
        else:
            time = Fraction(0) if self._last is None else self._last + step
        if self._last is not None and time <= self._last:
            self.report.repaired_timestamps += 1
            time = self._last + step
        self._last = time
        return time

    def finish(self) -> None:
        """Refuse a video that decoded to fewer frames than it announces."""
        report, info, path = self.report, self.info, self.path
        if report.frames == 0 or self._last is None:
            raise InputError(path, "contains no decodable video frames")
        if report.repaired_timestamps:
            log.warning(
                "%s: %d frame(s) had missing or repeated timestamps and were spaced one "
                "frame apart",
                path,
                report.repaired_timestamps,
            )
        # Lost packets mean lost frames: refuse rather than emit a shorter video.
        if report.rejected_packets:
            raise InputError(
                path,
                f"damaged: {report.rejected_packets} video packet(s) cannot be decoded "
                f"({report.frames} frames decoded)",
            )
        refuse_truncated(path, info, self._last, report.frames)


def refuse_truncated(path: Path, info: MediaInfo, last_start: Fraction, frames: int) -> None:
    """Refuse a video whose last frame (starting at ``last_start``, the ``frames``-th) ends
    short of the container's duration: a truncated video is refused, never shortened.

    The container's frame count is not a reliable check (AVI counts empty
    "repeat" chunks), its duration is.
    """
    step = 1 / info.frame_rate
    last_end = last_start + step
    slack = 2 * step if info.video_duration_known else _DURATION_SLACK
    if info.duration and last_end + slack < info.duration:
        raise InputError(
            path,
            f"truncated: video stops at {float(last_end):.2f} s of "
            f"{float(info.duration):.2f} s ({frames} frames)",
        )


def read_pictures(
    path: Path, report: DecodeReport | None = None, hwaccel: str | None = None
) -> Iterator[VideoPicture]:
    """Yield every frame of the first video stream, in storage orientation.

    Decoding runs in a background thread, a few frames ahead of the consumer,
    on the ``hwaccel`` device if one is named (see :func:`open_input`).
    Raises InputError (after the last frame) if the video turns out truncated.
    """
    info = probe(path)
    decoder = VideoDecoder(path, info, report if report is not None else DecodeReport())

    def pictures() -> Iterator[VideoPicture]:
        with open_input(path, hwaccel) as container:
            stream = _video_stream(container, path)
            stream.thread_type = "AUTO"
            for packet in container.demux(stream):
                yield from decoder.decode(packet)
        decoder.finish()

    return prefetch(pictures())


def read_frames(path: Path, report: DecodeReport | None = None) -> Iterator[DecodedFrame]:
    """Every frame as full-size RGB, in storage orientation."""
    for picture in read_pictures(path, report):
        yield DecodedFrame(picture.index, picture.time, picture.rgb())
