"""Live mode: redact camera and network streams in real time.

Three threads, bounded everywhere (see :mod:`veil.live.session`; one class each):

- the *source* thread decodes frames (:mod:`veil.live.sources`, read with
  PyAV by :mod:`veil.media.live_input`) into a small queue that drops its
  oldest frame when full, and hands the newest frame to the detector whenever
  it is idle;
- the *detector* thread runs the face detector on that frame and updates
  :class:`~veil.live.faces.LiveFaces`, never queueing work;
- the *emitter* thread redacts every frame with the last known faces (boxes
  moved by their velocity and grown with their age) and writes it to the
  outputs (:mod:`veil.live.sinks`, written by :mod:`veil.media.live_output`),
  repeating the last redacted frame while the source is down.

:mod:`veil.live.http` serves the HLS folder, MJPEG and statistics.
"""

from veil.live.config import LiveConfig, OutputConfig, parse_duration
from veil.live.faces import FaceMotion, LiveFaces
from veil.live.hub import FrameBroadcaster, LiveHub
from veil.live.session import LiveSession
from veil.live.stats import LiveStats

__all__ = [
    "FaceMotion",
    "FrameBroadcaster",
    "LiveConfig",
    "LiveFaces",
    "LiveHub",
    "LiveSession",
    "LiveStats",
    "OutputConfig",
    "parse_duration",
]
