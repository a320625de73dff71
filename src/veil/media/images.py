"""Still images: read upright, write without metadata.

Images are decoded with Pillow. EXIF orientation is applied on read so faces are
upright for the detector, and the output is written from pixels alone, so EXIF
(GPS position, embedded thumbnail that would still show the faces) is dropped.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from veil.errors import InputError
from veil.names import IMAGE_FORMATS, is_image_name


def is_image(path: Path) -> bool:
    return is_image_name(path)


class TooManyPixels(InputError):
    """An image larger than Pillow will decode at all."""


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding a pixel."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # callers check
            with Image.open(path) as image:
                return image.size
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(path, f"too many pixels to decode ({exc})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError(path, f"not a readable image ({exc})") from exc


def read_image(path: Path) -> NDArray[np.uint8]:
    """The image as upright (H, W, 3) RGB."""
    if not path.exists():
        raise InputError(path, "no such file")
    if path.stat().st_size == 0:
        raise InputError(path, "file is empty (0 bytes)")
    try:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image)
            return np.asarray(upright.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError(path, f"not a readable image ({exc})") from exc
    except Image.DecompressionBombError as exc:  # Pillow's own bound on pixels
        raise InputError(path, f"too large to decode ({exc})") from exc


def write_image(rgb: NDArray[np.uint8], path: Path) -> None:
    """Write ``rgb`` in the format the suffix names, with no metadata at all."""
    fmt = IMAGE_FORMATS[path.suffix.lower()]
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    Image.fromarray(rgb).save(path, format=fmt, **options)
