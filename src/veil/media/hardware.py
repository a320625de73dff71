"""Which hardware video encoders this machine can use: each is opened, not assumed.

FFmpeg's build lists encoders for NVIDIA, Intel, AMD and V4L2 hardware whether
or not that hardware is here; only opening one says it works.
"""

from __future__ import annotations

from fractions import Fraction

import av

# H.264 and HEVC encoders on GPUs and media engines, the codecs veil writes.
HARDWARE_ENCODERS = (
    "h264_nvenc",
    "hevc_nvenc",
    "h264_qsv",
    "hevc_qsv",
    "h264_vaapi",
    "hevc_vaapi",
    "h264_amf",
    "hevc_amf",
    "h264_v4l2m2m",
    "h264_videotoolbox",
)


def codec_versions() -> str:
    """PyAV's version and the FFmpeg it carries, e.g. ``PyAV 18.1.1, FFmpeg 8.1.3``."""
    return f"PyAV {av.__version__}, FFmpeg {av.ffmpeg_version_info}"


def built_hardware_encoders() -> list[str]:
    """The hardware encoders this PyAV's FFmpeg was built with."""
    return [name for name in HARDWARE_ENCODERS if name in av.codecs_available]


def opens(encoder: str) -> bool:
    """Whether ``encoder`` opens for a small 8-bit 4:2:0 picture (its hardware is here)."""
    try:
        context = av.CodecContext.create(encoder, "w")
        context.width, context.height = 256, 256
        context.pix_fmt = "nv12" if encoder.endswith(("qsv", "vaapi")) else "yuv420p"
        context.time_base = Fraction(1, 25)
        context.open()
    except (av.FFmpegError, ValueError, OSError):
        return False
    return True


def working_hardware_encoders() -> list[str]:
    """The hardware encoders that open on this machine."""
    return [name for name in built_hardware_encoders() if opens(name)]
