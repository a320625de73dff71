"""Stage 1 and 7: media in and media out. The only package that imports PyAV."""

from veil.media.audio import AudioClip, SampleTransform, add_audio, has_audio, read_audio
from veil.media.images import TooManyPixels, image_size, is_image, read_image, write_image
from veil.media.picture import VideoPicture
from veil.media.reader import DecodeReport, probe, read_frames, read_pictures
from veil.media.writer import EncoderSettings, PictureProcessor, transcode, write_video

__all__ = [
    "AudioClip",
    "DecodeReport",
    "EncoderSettings",
    "PictureProcessor",
    "SampleTransform",
    "TooManyPixels",
    "VideoPicture",
    "add_audio",
    "has_audio",
    "image_size",
    "is_image",
    "probe",
    "read_audio",
    "read_frames",
    "read_image",
    "read_pictures",
    "transcode",
    "write_image",
    "write_video",
]
