"""Sound: re-encoding an audio stream through a sample transform, reading and adding tracks.

:func:`audio_encoder` is the writer's handler for an audio stream whose samples
must change (spans muted or bleeped) or whose codec the output container cannot
hold. Samples are decoded, numbered on the media timeline from the first
frame's time, passed to the transform and encoded again, with the input's codec
where the container takes it, so that a lossless track stays bit-exact outside
the spans and a lossy one goes through one generation of its own codec.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from veil.atomic import atomic_path
from veil.errors import InputError

log = logging.getLogger(__name__)

_STANDARD_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 8: "7.1"}
# encoder for each decoder whose name differs; PCM, FLAC, ALAC, AAC share theirs
_ENCODERS = {"mp3": "libmp3lame", "opus": "libopus", "vorbis": "libvorbis"}
_DEFAULT_BIT_RATE = 192_000

Handler = Callable[["av.Packet | None"], None]


class SampleTransform(Protocol):
    """Changes a block of samples: (channels, n) array, the media-timeline index of
    its first sample, the sample rate -> the block to encode (same shape and type)."""

    def __call__(self, samples: NDArray, first: int, rate: int) -> NDArray: ...


def encoder_name(decoder: str) -> str:
    """The encoder that writes what ``decoder`` reads."""
    return _ENCODERS.get(decoder, decoder)


def audio_encoder(
    out: av.container.OutputContainer,
    stream: av.AudioStream,
    codec: str,
    src: Path,
    transform: SampleTransform | None = None,
) -> Handler:
    """A packet handler that decodes ``stream``, applies ``transform`` and encodes ``codec``.

    Falls back to AAC where this FFmpeg has no ``codec`` encoder.
    """
    context = stream.codec_context
    rate = context.sample_rate
    try:
        out_stream = out.add_stream(codec, rate=rate)
    except (ValueError, av.error.FFmpegError):
        log.info("%s: no %s encoder, audio re-encoded to AAC", src, codec)
        out_stream = out.add_stream("aac", rate=rate)
    # some decoders report "N channels" with no order, which encoders refuse:
    # use the standard layout for that many channels
    out_stream.layout = _STANDARD_LAYOUTS.get(context.channels, "stereo")
    if not out_stream.codec_context.codec.name.startswith("pcm_"):
        out_stream.bit_rate = context.bit_rate or stream.bit_rate or _DEFAULT_BIT_RATE
    clock = _SampleClock(rate)

    def encode(packet: av.Packet | None) -> None:
        if packet is None:
            out.mux(out_stream.encode(None))
            return
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            log.warning("%s: damaged audio packet at pts %s skipped", src, packet.pts)
            return
        for frame in frames:
            first = clock.first_sample(frame)
            if transform is not None:
                frame = _transformed(frame, transform, first, rate)
            frame.pts, frame.time_base = first, Fraction(1, rate)
            out.mux(out_stream.encode(frame))

    return encode


class _SampleClock:
    """Numbers samples from the first frame's time on, contiguously.

    Frame times of a decoded track can jitter by a sample or two (rounding in
    the container's time base); counting keeps the output gapless, and the
    first frame's time keeps it where the video expects it.
    """

    def __init__(self, rate: int) -> None:
        self.rate, self.next = rate, None

    def first_sample(self, frame: av.AudioFrame) -> int:
        if self.next is None:
            time = frame.time if frame.time is not None else 0.0
            self.next = round(time * self.rate)
        first = self.next
        self.next += frame.samples
        return first


def _transformed(
    frame: av.AudioFrame, transform: SampleTransform, first: int, rate: int
) -> av.AudioFrame:
    samples = frame.to_ndarray()
    planar = frame.format.is_planar
    channels = len(frame.layout.channels)
    # packed formats come as (1, n*channels), interleaved: make it (channels, n)
    block = samples if planar else samples.reshape(-1, channels).T.copy()
    block = transform(block, first, rate)
    data = block if planar else block.T.reshape(1, -1)
    new = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), frame.format.name, frame.layout)
    new.sample_rate = rate
    return new


@dataclass(frozen=True)
class AudioClip:
    """Decoded sound: float samples (channels, n) in -1..1, their rate, and the
    media time of the first sample in seconds."""

    samples: NDArray[np.float32]
    rate: int
    start: float = 0.0

    @property
    def seconds(self) -> float:
        return self.samples.shape[-1] / self.rate


def has_audio(path: Path) -> bool:
    """True when ``path`` holds an audio stream."""
    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except av.error.FFmpegError as exc:
        raise InputError(path, f"cannot read: {exc}") from None


def read_audio(path: Path, rate: int | None = None, mono: bool = False) -> AudioClip | None:
    """The first audio stream of ``path`` decoded whole (None when there is none).

    Args:
        rate: resample to this rate (None: keep the stream's).
        mono: mix the channels down to one.
    """
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            layout = "mono" if mono else _STANDARD_LAYOUTS.get(stream.codec_context.channels)
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            blocks, start = [], None
            for frame in container.decode(stream):
                if start is None:
                    start = float(frame.time or 0.0)
                blocks.extend(f.to_ndarray() for f in resampler.resample(frame))
            blocks.extend(f.to_ndarray() for f in resampler.resample(None))
            out_rate = rate or stream.codec_context.sample_rate
    except av.error.FFmpegError as exc:
        raise InputError(path, f"cannot decode audio: {exc}") from None
    channels = 1 if mono else stream.codec_context.channels
    samples = np.concatenate(blocks, axis=1) if blocks else np.zeros((channels, 0), np.float32)
    return AudioClip(samples.astype(np.float32), out_rate, start or 0.0)


def add_audio(video: Path, clip: AudioClip, dst: Path, codec: str = "aac") -> None:
    """Write ``dst``: the video stream of ``video`` as it is, with ``clip`` encoded as ``codec``.

    For test and evaluation media: the clip's first sample plays at ``clip.start``.
    """
    layout = _STANDARD_LAYOUTS[clip.samples.shape[0]]
    with av.open(str(video)) as src, atomic_path(dst) as tmp, av.open(str(tmp), "w") as out:
        in_video = src.streams.video[0]
        out_video = out.add_stream_from_template(in_video)
        audio = out.add_stream(codec, rate=clip.rate)
        audio.layout = layout
        if not codec.startswith("pcm_"):
            audio.bit_rate = 128_000
        for packet in src.demux(in_video):
            if packet.dts is None:
                continue
            packet.stream = out_video
            out.mux(packet)
        first = round(clip.start * clip.rate)
        step = 4096
        for offset in range(0, clip.samples.shape[-1], step):
            block = np.ascontiguousarray(clip.samples[:, offset : offset + step])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate, frame.time_base = clip.rate, Fraction(1, clip.rate)
            frame.pts = first + offset
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
