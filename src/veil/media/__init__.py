"""Stage 1 and 7: media in and media out. The only package that imports PyAV."""

from veil.media.images import IMAGE_SUFFIXES, is_image, read_image, write_image
from veil.media.reader import DecodeReport, probe, read_frames
from veil.media.writer import EncoderSettings, transcode, write_video

__all__ = [
    "IMAGE_SUFFIXES",
    "DecodeReport",
    "EncoderSettings",
    "is_image",
    "probe",
    "read_frames",
    "read_image",
    "transcode",
    "write_image",
    "write_video",
]
