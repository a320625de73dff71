"""Segments of one video: index its frames, decode a range, encode a range, join the parts.

The pieces that segment-parallel redaction (``veil.distributed``) needs from
PyAV, kept in ``media`` like every other use of PyAV:

- :func:`index_frames` demuxes the video stream without decoding it: every
  frame's timestamp in presentation order and which frames are keyframes.
- :func:`read_range` seeks to a keyframe and yields frames ``first..stop-1``
  numbered as a sequential decode numbers them.
- :class:`SegmentWriter` encodes a run of pictures into a small MP4 with the
  same encoder settings as :func:`veil.media.transcode` (it is the same
  encoder class); a fresh encoder starts with an IDR picture, so every part
  can be decoded on its own.
- :func:`join_segments` copies the parts' video packets one after another
  into the output (no re-encoding) and takes audio and subtitles from the
  source in one piece, as ``transcode`` does, interleaved by time.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.error

from veil.atomic import atomic_path
from veil.errors import InputError, VeilError
from veil.media.picture import VideoPicture
from veil.media.reader import open_input, refuse_truncated
from veil.media.writer import (
    EncoderSettings,
    _container_kind,
    _map_other_streams,
    _VideoEncoder,
)
from veil.types import MediaInfo


class NotSegmentable(VeilError):
    """The video cannot be cut by timestamps (missing or repeated ones): run it whole."""


@dataclass(frozen=True)
class FrameIndex:
    """Every frame of a video stream by timestamp, without decoding.

    Attributes:
        pts: each frame's timestamp in ``time_base`` units, in presentation
            order (strictly increasing); frame ``i`` of a sequential decode is
            the one at ``pts[i]``.
        keyframes: indices (into ``pts``) of the frames a decoder can start at.
        time_base: seconds per ``pts`` unit.
    """

    pts: tuple[int, ...]
    keyframes: tuple[int, ...]
    time_base: Fraction

    def __len__(self) -> int:
        return len(self.pts)

    def time(self, index: int) -> Fraction:
        return self.pts[index] * self.time_base

    def keyframe_at_or_before(self, index: int) -> int:
        k = bisect.bisect_right(self.keyframes, index) - 1
        return self.keyframes[k] if k >= 0 else 0


def index_frames(path: Path, info: MediaInfo) -> FrameIndex:
    """Read the video stream's packets (not their pictures): timestamps and keyframes.

    Raises:
        NotSegmentable: a packet has no timestamp or two frames share one
            (the sequential decoder repairs such files; segments cannot be found by time).
        InputError: the file is damaged or ends before its stated duration.
    """
    pts: list[int] = []
    key_pts: list[int] = []
    with open_input(path) as container:
        stream = container.streams.video[0]
        time_base = Fraction(stream.time_base.numerator, stream.time_base.denominator)
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue  # the demuxer's flush packet
                if packet.pts is None:
                    raise NotSegmentable(f"{path}: a video packet has no timestamp")
                pts.append(packet.pts)
                if packet.is_keyframe:
                    key_pts.append(packet.pts)
        except av.error.FFmpegError as exc:
            raise InputError(path, f"video cannot be read ({exc})") from exc
    ordered = sorted(pts)
    if len(set(ordered)) != len(ordered):
        raise NotSegmentable(f"{path}: two video frames share a timestamp")
    if not ordered:
        raise InputError(path, "contains no decodable video frames")
    position = {p: i for i, p in enumerate(ordered)}
    index = FrameIndex(tuple(ordered), tuple(sorted(position[p] for p in key_pts)), time_base)
    refuse_truncated(path, info, index.time(len(index) - 1), len(index))
    return index


@dataclass
class RangeReport:
    """What decoding a range found: frames marked corrupt by the decoder (global indices)."""

    damaged_frames: list[int] = field(default_factory=list)


def read_range(
    path: Path,
    first: int,
    pts: Sequence[int],
    seek_pts: int,
    report: RangeReport | None = None,
) -> Iterator[VideoPicture]:
    """Frames ``first .. first + len(pts) - 1``, decoded from the keyframe at ``seek_pts``.

    Args:
        path: the video.
        first: global index of the first frame wanted.
        pts: timestamps of the frames wanted (a slice of :attr:`FrameIndex.pts`).
        seek_pts: timestamp of a keyframe at or before ``pts[0]``.
        report: collects frames the decoder marks corrupt.

    Raises:
        InputError: a wanted frame is missing or the video cannot be decoded.
    """
    report = report if report is not None else RangeReport()
    try:
        yield from _read_range(path, first, pts, seek_pts, report)
    except _SeekMissed:  # the demuxer landed past the range: decode from the start
        yield from _read_range(path, first, pts, None, report)


class _SeekMissed(Exception):
    pass


def _read_range(
    path: Path, first: int, pts: Sequence[int], seek_pts: int | None, report: RangeReport
) -> Iterator[VideoPicture]:
    wanted = {p: first + i for i, p in enumerate(pts)}
    start, stop = pts[0], pts[-1]
    done = 0
    with open_input(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = Fraction(stream.time_base.numerator, stream.time_base.denominator)
        if seek_pts is not None:
            container.seek(seek_pts, stream=stream, backward=True, any_frame=False)
        for frame in _decoded(container, stream, path):
            if frame.pts is None or frame.pts < start:
                continue
            if done == 0 and frame.pts > start and seek_pts is not None:
                raise _SeekMissed
            index = wanted.get(frame.pts)
            if index != first + done:
                raise InputError(path, f"frame {first + done} cannot be decoded on its own")
            if frame.is_corrupt:
                report.damaged_frames.append(index)
            done += 1
            yield VideoPicture(frame, index, frame.pts * time_base)
            if frame.pts >= stop:
                return
    raise InputError(path, f"frames {first + done}..{first + len(pts) - 1} are missing")


def _decoded(
    container: av.container.InputContainer, stream: av.VideoStream, path: Path
) -> Iterator[av.VideoFrame]:
    try:
        for packet in container.demux(stream):
            yield from packet.decode()
    except av.error.FFmpegError as exc:
        raise InputError(path, f"video cannot be decoded ({exc})") from exc


class SegmentWriter:
    """Encodes one segment's pictures into an MP4 (video only) with ``transcode``'s encoder."""

    def __init__(self, path: Path, info: MediaInfo, settings: EncoderSettings) -> None:
        self.path = path
        self._out = av.open(str(path), mode="w")
        self._encoder = _VideoEncoder(self._out, info, settings)

    @property
    def count(self) -> int:
        return self._encoder.count

    def write(self, picture: VideoPicture) -> None:
        self._encoder.encode(picture)

    def close(self) -> None:
        try:
            self._encoder.close()
        finally:
            self._out.close()

    def __enter__(self) -> SegmentWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._out.close()


def _segment_packets(paths: Sequence[Path]) -> Iterator[tuple[Fraction, av.Packet]]:
    """Every part's video packets in order, with the time (dts) each is due."""
    last_dts: Fraction | None = None
    for path in paths:
        with av.open(str(path)) as part:
            stream = part.streams.video[0]
            for packet in part.demux(stream):
                if packet.dts is None or packet.size == 0:
                    continue
                dts = packet.dts * packet.time_base
                if last_dts is not None and dts <= last_dts:
                    raise VeilError(
                        f"internal: {path.name} starts at {float(dts):.3f} s, before the "
                        f"previous part ends ({float(last_dts):.3f} s)"
                    )
                last_dts = dts
                yield dts, packet


def _source_packets(
    container: av.container.InputContainer, streams: Sequence[av.stream.Stream]
) -> Iterator[tuple[Fraction, av.Packet]]:
    if not streams:
        return
    for packet in container.demux(*streams):
        stamp = packet.dts if packet.dts is not None else packet.pts
        if stamp is None:
            continue
        yield stamp * packet.time_base, packet


def _same_extradata(paths: Sequence[Path]) -> None:
    """Parts can follow one another in one stream only if their headers are identical."""
    first: bytes | None = None
    for path in paths:
        with av.open(str(path)) as part:
            ctx = part.streams.video[0].codec_context
            data = bytes(ctx.extradata or b"")
            if first is None:
                first = data
            elif data != first:
                raise VeilError(
                    f"internal: {path.name} was encoded with other parameters than the "
                    "first part; cannot join without re-encoding"
                )


def join_segments(src: Path, parts: Sequence[Path], dst: Path, info: MediaInfo) -> int:
    """Write ``dst``: the parts' video packets (stream copy) + the source's other streams.

    Audio and subtitles are copied from ``src`` whole (or re-encoded to AAC
    where the container needs it, as :func:`veil.media.transcode` does).
    Returns the number of video packets written.
    """
    if not parts:
        raise VeilError("internal: nothing to join")
    _same_extradata(parts)
    with open_input(src) as container, atomic_path(dst) as tmp:
        options = {"movflags": "+faststart"} if tmp.suffix.lower() in (".mp4", ".mov") else {}
        try:
            with (
                av.open(str(parts[0])) as first,
                av.open(str(tmp), mode="w", container_options=options) as out,
            ):
                template = first.streams.video[0]
                video = out.add_stream_from_template(template)
                video.time_base = template.time_base
                if info.rotation:
                    video.set_display_rotation(info.rotation)
                handlers = _map_other_streams(container, out, _container_kind(out), src)
                written = 0
                merged = heapq.merge(
                    ((t, 0, p) for t, p in _segment_packets(parts)),
                    ((t, 1, p) for t, p in _source_packets(container, list(handlers))),
                    key=lambda item: (item[0], item[1]),
                )
                for _, kind, packet in merged:
                    if kind == 0:
                        packet.stream = video
                        out.mux(packet)
                        written += 1
                    else:
                        handlers[packet.stream](packet)
                for handler in handlers.values():
                    handler(None)
        except av.error.FFmpegError as exc:
            raise VeilError(f"{dst}: cannot write output ({exc})") from exc
    return written
