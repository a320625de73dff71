"""Every setting of a run, grouped by stage: what travels from a shell to the pipeline.

Built from a user's choices by :func:`veil.pipeline.options.build_config`.
"""

from __future__ import annotations

from dataclasses import dataclass

from veil.audio import AudioSpan
from veil.detect import DetectorConfig
from veil.media import EncoderSettings
from veil.redact import RedactionConfig
from veil.track import TrackerConfig
from veil.track.recurrence import RecurrenceConfig


@dataclass(frozen=True)
class SmallFacePass:
    """A search of the frame enlarged, on some detection frames only.

    Faces under about 24 px (in the frame the detector sees, ``--detect-size``)
    escape the detector; enlarging that frame ``upscale`` times (in tiles)
    brings them in reach, at about ``upscale**2`` times the cost. Doing so on
    every frame would cost that much more, but a face found on one frame is
    then followed by the searches near known faces: backwards through the
    held frames (which enlarge the face in a small window) and forwards while
    the detector misses it. So the enlarged pass only has to come round again
    before those searches lose their reach: by default, as many frames apart
    as the backward search reaches back.

    Attributes:
        upscale: how much the frame is enlarged (1 = no such pass).
        every: frames between two passes (0 = as far apart as the backward
            search reaches; rounded down to a detection frame).
    """

    upscale: float = 2.0
    every: int = 0


@dataclass(frozen=True)
class PipelineConfig:
    """Every setting of a run, grouped by stage."""

    detector: DetectorConfig = DetectorConfig()
    tracker: TrackerConfig = TrackerConfig()
    redaction: RedactionConfig = RedactionConfig()
    encoder: EncoderSettings = EncoderSettings()
    # detect on every n-th frame; the tracker interpolates and pads in between.
    # 2: bench/eval_video.py on three seeds leaked as few face-frames as
    # every frame (598 against 593 of 8,698) in 0.7 of the time.
    detect_every: int = 2
    small_faces: SmallFacePass = SmallFacePass()
    recurrence: RecurrenceConfig = RecurrenceConfig()
    # a hard cut ends every track: nothing is held into the next shot, or
    # searched for across the cut (veil.pipeline.cuts)
    scene_cuts: bool = True
    # a doubtful detection starts a face only where the other model sees one
    # too (veil.pipeline.corroborate)
    second_opinion: bool = True
    # decode on this hardware device ("cuda": NVDEC), None: in software
    hwaccel: str | None = None
    # stretches of the sound to hide when the output is written (veil.audio)
    audio_spans: tuple[AudioSpan, ...] = ()
