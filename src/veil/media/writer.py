"""Encoding: re-encode the video through a frame transform, keep everything else.

:func:`transcode` demuxes the input once. Video packets are decoded, passed to
the caller's transform (the redaction) and encoded with the input's own
timestamps, so frame count, VFR timing and duration are preserved; audio and
subtitle packets are copied where the output container allows, else audio is
re-encoded to AAC; audio with spans to hide is re-encoded through the spans
(:mod:`veil.media.audio`). The output is written to a temporary name and renamed only
when complete.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import av.error
import numpy as np
from av.video.frame import PictureType
from numpy.typing import NDArray

from veil.atomic import atomic_path
from veil.errors import VeilError
from veil.media.audio import Handler, SampleTransform, audio_encoder, encoder_name
from veil.media.picture import VideoPicture
from veil.media.prefetch import SerialWorker, prefetch
from veil.media.reader import DecodeReport, VideoDecoder, open_input, probe
from veil.types import MediaInfo

log = logging.getLogger(__name__)

# Audio codecs each container takes as they are; anything else becomes AAC.
_AUDIO_COPYABLE = {
    "mp4": {"aac", "mp3", "ac3", "eac3", "opus", "flac", "alac"},
    "mov": {"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s24le", "pcm_f32le"},
    "matroska": None,  # takes every codec
}
_SUBTITLE_COPYABLE = {"mp4": {"mov_text"}, "mov": {"mov_text"}, "matroska": None}
# Frames waiting between decoder, processor and encoder: 4 each up to 1080p,
# 1 at 4K (12 MB a frame), where the encoder is the bottleneck anyway. At 4K,
# 32 MB (2 frames) peaked at 0.96-0.99 GB, 16 MB at 0.93-0.94 GB, equally fast.
_QUEUE_BYTES = 16 * 1024 * 1024
_QUEUE_DEPTH = 4


@dataclass(frozen=True)
class EncoderSettings:
    """Video encoder choice. Defaults: H.264 that plays everywhere, visually lossless-ish."""

    codec: str = "libx264"
    crf: int = 20
    preset: str = "veryfast"
    pixel_format: str = "yuv420p"


def _container_kind(out: av.container.OutputContainer) -> str:
    names = out.format.name.split(",")
    for kind in ("mp4", "mov", "matroska"):
        if kind in names:
            return kind
    return names[0]


def _can_copy(table: dict[str, set[str] | None], kind: str, codec: str) -> bool:
    if kind not in table:
        return False
    allowed = table[kind]
    return allowed is None or codec in allowed


def _add_video_stream(
    out: av.container.OutputContainer,
    info: MediaInfo,
    settings: EncoderSettings,
) -> av.VideoStream:
    try:
        stream = out.add_stream(settings.codec, rate=info.frame_rate)
    except (ValueError, av.error.FFmpegError) as exc:
        raise VeilError(f"video codec {settings.codec!r} is not available: {exc}") from exc
    # H.264/HEVC 4:2:0 cannot store odd sizes (even cropping is in 2-pixel units),
    # so an odd frame gets one duplicated edge row/column; 4:4:4 keeps it exact.
    pad = _needs_even(settings)
    stream.width = info.width + (info.width % 2 if pad else 0)
    stream.height = info.height + (info.height % 2 if pad else 0)
    stream.pix_fmt = settings.pixel_format
    stream.time_base = _rational(info.time_base)
    stream.codec_context.time_base = _rational(info.time_base)
    options = {"crf": str(settings.crf), "preset": settings.preset}
    if settings.codec.startswith(("libx264", "libx265")):
        stream.options = options
    elif settings.codec.endswith("nvenc"):
        stream.options = {"cq": str(settings.crf), "preset": "p4"}
    if info.rotation:
        stream.set_display_rotation(info.rotation)
    return stream


def _rational(value: Fraction) -> Fraction:
    return Fraction(value.numerator, value.denominator)


def _needs_even(settings: EncoderSettings) -> bool:
    return "420" in settings.pixel_format or settings.pixel_format in ("nv12", "nv21")


def _pad_even(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    height, width = rgb.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return rgb
    return np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


class PictureProcessor(Protocol):
    """Turns decoded pictures into pictures to encode, in order, possibly later.

    ``push`` may hold pictures back (a look-ahead) and return them on a later
    call; ``flush`` returns the rest at the end of the video.
    """

    def push(self, picture: VideoPicture) -> Iterable[VideoPicture]: ...

    def flush(self) -> Iterable[VideoPicture]: ...


def transcode(
    src: Path,
    dst: Path,
    processor: PictureProcessor,
    settings: EncoderSettings = EncoderSettings(),
    report: DecodeReport | None = None,
    on_frame: Callable[[int], None] | None = None,
    hwaccel: str | None = None,
    audio: SampleTransform | None = None,
) -> DecodeReport:
    """Write ``dst``: ``src`` with every video frame passed through ``processor``.

    Decoding runs in a background thread; audio and subtitles are copied (or
    re-encoded to AAC) as they are demuxed.

    Args:
        src: input video; only ever opened for reading.
        dst: output path; its suffix picks the container (.mp4 by default).
        processor: gets each decoded picture (storage orientation) and gives
            back the pictures to encode, every one, in order.
        settings: video encoder settings.
        report: filled with decoding problems (damaged frames).
        on_frame: called with the number of frames read so far, for progress.
        hwaccel: decode on this hardware device (``"cuda"``: NVDEC).
        audio: changes every audio stream's samples (hides spans); None: the
            audio is copied as it is.

    Raises:
        InputError: the input cannot be read whole.
        VeilError: the output cannot be encoded.
    """
    info = probe(src)
    report = report if report is not None else DecodeReport()
    with open_input(src, hwaccel) as container, atomic_path(dst) as tmp:
        try:
            _transcode_into(container, tmp, info, processor, settings, report, on_frame, src, audio)
        except av.error.FFmpegError as exc:
            raise VeilError(f"{dst}: cannot write output ({exc})") from exc
    return report


class _VideoEncoder:
    """Encodes pictures with the input's timestamps, padding odd sizes for 4:2:0."""

    def __init__(
        self, out: av.container.OutputContainer, info: MediaInfo, settings: EncoderSettings
    ) -> None:
        self.out, self.info, self.settings = out, info, settings
        self.stream = _add_video_stream(out, info, settings)
        self.count = 0
        self._last_pts = -1

    def encode(self, picture: VideoPicture) -> None:
        source = picture.frame
        if (self.stream.width, self.stream.height) != (source.width, source.height):
            frame = av.VideoFrame.from_ndarray(_pad_even(picture.rgb()), format="rgb24")
        elif source.format.name != self.stream.pix_fmt:
            frame = source.reformat(format=self.stream.pix_fmt)
        else:
            frame = source
        # the decoder's times are increasing; rounding must not undo that
        self._last_pts = max(round(picture.time / self.info.time_base), self._last_pts + 1)
        frame.pts = self._last_pts
        frame.time_base = _rational(self.info.time_base)
        frame.duration = source.duration
        # The encoder picks its own frame types: a decoded frame still says
        # what it was in the input, and libx264 obeys that, so an intra-only
        # input (MJPEG) came out as all keyframes, several times too big.
        frame.pict_type = PictureType.NONE
        self.out.mux(self.stream.encode(frame))
        self.count += 1

    def close(self) -> None:
        self.out.mux(self.stream.encode(None))


def _demuxed(
    container: av.container.InputContainer,
    streams: list[av.stream.Stream],
    decoder: VideoDecoder,
) -> Iterator[VideoPicture | av.Packet]:
    """Decoded pictures of the first stream, and the other streams' packets as they are."""
    video = streams[0]
    for packet in container.demux(*streams):
        if packet.stream is video:
            yield from decoder.decode(packet)
        else:
            yield packet
    decoder.finish()


def _transcode_into(
    container: av.container.InputContainer,
    tmp: Path,
    info: MediaInfo,
    processor: PictureProcessor,
    settings: EncoderSettings,
    report: DecodeReport,
    on_frame: Callable[[int], None] | None,
    src: Path,
    audio: SampleTransform | None = None,
) -> None:
    in_video = container.streams.video[0]
    in_video.thread_type = "AUTO"
    options = {"movflags": "+faststart"} if tmp.suffix.lower() in (".mp4", ".mov") else {}
    with av.open(str(tmp), mode="w", container_options=options) as out:
        kind = _container_kind(out)
        encoder = _VideoEncoder(out, info, settings)
        passthrough = _map_other_streams(container, out, kind, src, audio)
        decoder = VideoDecoder(src, info, report)

        # encoding (and all muxing) runs in its own thread: libx264 releases the
        # GIL, so it overlaps the detector working on later frames
        depth = _queue_depth(info)
        with SerialWorker(depth) as worker:

            def encode_all(pictures: Iterable[VideoPicture]) -> None:
                for picture in pictures:
                    worker.submit(functools.partial(encoder.encode, picture))

            for item in prefetch(_demuxed(container, [in_video, *passthrough], decoder), depth):
                if isinstance(item, VideoPicture):
                    encode_all(processor.push(item))
                    # progress counts frames read: the processor may hold some back
                    if on_frame is not None:
                        on_frame(report.frames)
                else:
                    worker.submit(functools.partial(passthrough[item.stream], item))
            encode_all(processor.flush())
        if encoder.count != report.frames:
            raise VeilError(f"internal: {report.frames} frames decoded, {encoder.count} encoded")
        encoder.close()
        for handler in passthrough.values():
            handler(None)


def _queue_depth(info: MediaInfo) -> int:
    frame_bytes = info.width * info.height * 3 // 2  # 4:2:0
    return max(1, min(_QUEUE_DEPTH, _QUEUE_BYTES // max(frame_bytes, 1)))


def _map_other_streams(
    container: av.container.InputContainer,
    out: av.container.OutputContainer,
    kind: str,
    src: Path,
    audio: SampleTransform | None = None,
) -> dict[av.stream.Stream, Handler]:
    """Set up an output stream for each audio/subtitle stream; return packet handlers."""
    handlers: dict[av.stream.Stream, Handler] = {}
    for stream in container.streams.audio:
        codec = stream.codec_context.codec.canonical_name
        copyable = _can_copy(_AUDIO_COPYABLE, kind, codec)
        if copyable and audio is None:
            handlers[stream] = _copier(out, stream)
        elif copyable:
            handlers[stream] = audio_encoder(out, stream, encoder_name(codec), src, audio)
        else:
            log.info("%s: audio %s re-encoded to AAC for %s", src, codec, kind)
            handlers[stream] = audio_encoder(out, stream, "aac", src, audio)
    for stream in container.streams.subtitles:
        codec = stream.codec_context.codec.canonical_name
        if _can_copy(_SUBTITLE_COPYABLE, kind, codec):
            handlers[stream] = _copier(out, stream)
        else:
            log.warning(
                "%s: subtitle stream %d (%s) cannot be stored in %s and is dropped; "
                "use an .mkv output to keep it",
                src,
                stream.index,
                codec,
                kind,
            )
    return handlers


def _copier(out: av.container.OutputContainer, stream: av.stream.Stream) -> Handler:
    out_stream = out.add_stream_from_template(stream)

    def copy(packet: av.Packet | None) -> None:
        # demux ends each stream with an empty flush packet: nothing to copy
        if packet is None or packet.dts is None:
            return
        packet.stream = out_stream
        out.mux(packet)

    return copy


def write_video(
    path: Path,
    frames: Iterable[NDArray[np.uint8]],
    times: Sequence[Fraction],
    rotation: int = 0,
    audio_hz: float | None = None,
    settings: EncoderSettings = EncoderSettings(),
    audio_codec: str = "aac",
) -> None:
    """Encode RGB ``frames`` shown at ``times`` (seconds), with an optional sine tone.

    Used for samples and test media; the frames are stored as given and
    ``rotation`` only sets the display matrix.
    """
    # the coarsest exact time base: containers with frame-based timing (AVI) need it
    ticks = math.lcm(*(t.denominator for t in times))
    time_base = Fraction(1, ticks if ticks <= 90000 else 90000)
    duration = times[-1] + (times[-1] - times[-2] if len(times) > 1 else Fraction(1, 25))
    rate = 1 / (times[1] - times[0]) if len(times) > 1 else Fraction(25)
    frames = iter(frames)
    first = next(frames)
    height, width = first.shape[:2]
    info = MediaInfo(width, height, rate, time_base, len(times), duration, rotation)
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w") as out:
        video = _add_video_stream(out, info, settings)
        audio = out.add_stream(audio_codec, rate=48000) if audio_hz else None
        if audio is not None:
            audio.bit_rate = 128_000  # some encoders (wmav2) have no default
        for rgb, time in zip(itertools.chain([first], frames), times, strict=True):
            frame = av.VideoFrame.from_ndarray(_pad_even(rgb), format="rgb24")
            frame.pts, frame.time_base = round(time / time_base), time_base
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            _write_tone(out, audio, float(duration), audio_hz)


def _write_tone(
    out: av.container.OutputContainer, stream: av.AudioStream, seconds: float, hz: float
) -> None:
    samples, rate = 1024, stream.codec_context.sample_rate
    for start in range(0, int(seconds * rate), samples):
        t = (start + np.arange(samples)) / rate
        tone = (0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        frame.sample_rate, frame.pts = rate, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
