"""Live inputs: cameras, network streams and files.

:func:`parse_source` says what a ``--source`` is; :meth:`SourceSpec.open`
connects to it once (:class:`veil.media.live_input.LiveInput`, which yields
decoded pictures with their presentation time). A lost connection raises
:class:`~veil.media.live_input.SourceLost`; reconnecting and pacing are the
session's business.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from veil.errors import InputError
from veil.media.live_input import LiveInput

_NETWORK = re.compile(r"^(rtsps?|rtmps?|https?|srt|udp|tcp|rtp)://", re.IGNORECASE)


@dataclass(frozen=True)
class SourceSpec:
    """What to open: ``url`` for FFmpeg, with its demuxer and options.

    ``kind`` is ``camera``, ``network`` or ``file``.
    """

    url: str
    kind: str
    format: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    def open(self, open_timeout: float, read_timeout: float) -> LiveInput:
        """One connection to the source (timeouts in seconds).

        Raises:
            SourceLost: it cannot be opened, or has no video stream.
        """
        return LiveInput(self.url, self.format, self.options, open_timeout, read_timeout)


def parse_source(text: str, rtsp_transport: str = "tcp") -> SourceSpec:
    """``0`` or ``/dev/video0`` (camera), a URL (network), or a path (file).

    Raises:
        InputError: a path that does not exist.
    """
    if text.isdigit() or text.startswith("/dev/video"):
        device = f"/dev/video{text}" if text.isdigit() else text
        camera_format = "avfoundation" if sys.platform == "darwin" else "v4l2"
        url = text if camera_format == "avfoundation" else device
        return SourceSpec(url, "camera", camera_format)
    if _NETWORK.match(text):
        options = {}
        if text.lower().startswith("rtsp"):
            options["rtsp_transport"] = rtsp_transport
        return SourceSpec(text, "network", None, options)
    path = Path(text)
    if not path.is_file():
        raise InputError(
            path,
            "no such file (a live source is a camera index, /dev/videoN, a URL or a video file)",
        )
    return SourceSpec(str(path), "file")
