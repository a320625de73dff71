"""Azure Media Redactor's annotations JSON (the Face Detector / Redactor v1 layout).

The file is the contract between analysis, review and rendering: one list of
fragments covering the timeline, each split into equal ``interval``s ("events"),
each event listing the faces seen in it with boxes normalised to the frame size.

Reading is tolerant of what Azure and other tools wrote (unknown fields are
ignored, ``index`` may be missing, fragments without faces may lack
``interval``/``events``, whole numbers may be written as floats); structural
problems that would make lookups wrong are rejected by the validators here, and
:func:`veil.annotations.io.read_annotations` reports the first one on one line.

Field names are the JSON keys (Azure's camelCase included) and field order is
Azure's key order, so ``model_dump`` writes files Azure tools can read.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ANNOTATIONS_VERSION = 1


class _Model(BaseModel):
    # Frozen so a stage can never change what another stage sees; extra keys in
    # files from other tools are dropped, never written back; NaN/Infinity (which
    # Python's json accepts) would pass every range check, so they are refused.
    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)


class Face(_Model):
    """One face in one event.

    Attributes:
        index: Azure writes it without defining it; veil writes the video frame
            index of the event. Optional on read.
        id: face ID, stable through the video; the ID list selects by it.
        x, y: top-left corner as a fraction of the frame width/height. May be
            outside 0..1 for faces cut by the frame edge.
        width, height: box size as a fraction of the frame width/height, > 0.
        confidence: veil extra: detector score where the box was detected.
        manual: veil extra: True for a box a person added or edited.
        kind: veil extra: what the ID hides, face (also when absent), plate,
            text or object (a region a reviewer marked).
    """

    index: int | None = None
    id: int
    x: float
    y: float
    width: float = Field(gt=0)
    height: float = Field(gt=0)
    confidence: float | None = None
    manual: bool | None = None
    kind: Literal["face", "plate", "text", "object"] | None = None


class Fragment(_Model):
    """A stretch of the timeline, in ticks of :attr:`Annotations.timescale`.

    ``events[k]`` covers ``[start + k*interval, start + (k+1)*interval)``.
    ``interval``/``events`` are absent where Azure saw no face in the fragment.
    """

    start: int
    duration: int = Field(ge=0)
    interval: int | None = Field(default=None, gt=0)
    events: tuple[tuple[Face, ...], ...] | None = None

    @model_validator(mode="after")
    def _events_fit(self) -> Fragment:
        if self.events is None:
            return self
        if self.interval is None:
            raise ValueError("fragment has events but no interval")
        slots = math.ceil(self.duration / self.interval)
        # Azure sometimes wrote one event more than the duration holds.
        if len(self.events) > slots + 1:
            raise ValueError(
                f"fragment has {len(self.events)} events but duration {self.duration} "
                f"holds only {slots} of interval {self.interval}"
            )
        return self

    @property
    def end(self) -> int:
        return self.start + self.duration


class CandidateBox(_Model):
    """One frame of a :class:`Candidate`, in the same units as a :class:`Face`.

    Attributes:
        index: the video frame index.
        start: the tick at which that frame is shown (its event's start).
        x, y, width, height: the region, normalised to the frame as in a Face.
        confidence: the detector's score there, below the detection threshold.
    """

    index: int = Field(ge=0)
    start: int
    x: float
    y: float
    width: float = Field(gt=0)
    height: float = Field(gt=0)
    confidence: float = Field(ge=0, le=1)


class Candidate(_Model):
    """veil extra: a span where something face-like scored below the threshold.

    No track covers it, so it is not redacted unless a reviewer accepts it; it
    is listed so that a person can look at what the detector was unsure of.
    Azure readers ignore the whole list.

    Attributes:
        id: numbered from 1 among the candidates (not a face ID).
        boxes: one per frame, in frame order.
    """

    id: int = Field(ge=1)
    boxes: tuple[CandidateBox, ...] = Field(min_length=1)


class IdInfo(_Model):
    """veil extra: how sure the analysis is that a face ID follows a real face.

    Attributes:
        id: the face ID.
        confidence: 0..1; low for tracks on background texture, hair or a wall.
        lowConfidence: True where the review app should show the ID apart.
    """

    id: int
    confidence: float = Field(ge=0, le=1)
    lowConfidence: bool = False


class MergeSuggestion(_Model):
    """veil extra: two face IDs the evidence says are one person.

    Attributes:
        ids: the two IDs, smaller first.
        score: 0..1, how strong the evidence is.
    """

    ids: tuple[int, int]
    score: float = Field(ge=0, le=1)


class AudioSpanEntry(_Model):
    """veil extra: a stretch of the sound to hide when the video is rendered.

    Attributes:
        start, end: seconds on the media timeline (the video frames' times,
            not ticks), ``0 <= start < end``.
        effect: ``mute`` (silence), ``bleep`` (1 kHz tone) or ``tone`` (a
            quiet 440 Hz tone).
        by: who added it: ``manual`` for a person, else the suggester
            (``digits``, ``letters``, ``terms``).
        reason: why, e.g. the words heard there.
    """

    start: float = Field(ge=0)
    end: float
    effect: Literal["mute", "bleep", "tone"] = "mute"
    by: str = "manual"
    reason: str | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> AudioSpanEntry:
        if self.end <= self.start:
            raise ValueError(f"audio span ends at {self.end}, not after its start {self.start}")
        return self


class Annotations(_Model):
    """A whole annotations file.

    Attributes:
        version: always 1 (the only layout Azure defined).
        timescale: ticks per second; all times below are in ticks.
        offset: ticks added to every fragment start to get the media time
            (Azure always wrote 0).
        framerate: frames per second, informational (lookups use ticks).
        width, height: frame size in pixels the boxes were normalised to.
        fragments: sorted by start, not overlapping; gaps mean "no faces".
        facesDetected: number of distinct face IDs; None where a file omitted
            it. Written after the fragments, as Azure does.
        candidates, ids, mergeSuggestions, audioSpans: veil extras (see
            :class:`Candidate`, :class:`IdInfo`, :class:`MergeSuggestion`,
            :class:`AudioSpanEntry`), written after Azure's
            keys and only when there is something to say; Azure readers ignore them.
    """

    version: int = ANNOTATIONS_VERSION
    timescale: int = Field(gt=0)
    offset: int = 0
    framerate: float = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    fragments: tuple[Fragment, ...]
    facesDetected: int | None = Field(default=None, ge=0)  # Azure's key
    candidates: tuple[Candidate, ...] | None = None
    ids: tuple[IdInfo, ...] | None = None
    mergeSuggestions: tuple[MergeSuggestion, ...] | None = None
    audioSpans: tuple[AudioSpanEntry, ...] | None = None

    @field_validator("version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version != ANNOTATIONS_VERSION:
            raise ValueError(f"unsupported version {version} (veil reads version 1)")
        return version

    @model_validator(mode="after")
    def _fragments_in_order(self) -> Annotations:
        for i in range(1, len(self.fragments)):
            before, after = self.fragments[i - 1], self.fragments[i]
            if after.start < before.end:
                raise ValueError(
                    f"fragments[{i}] starts at {after.start}, before fragments[{i - 1}] "
                    f"ends at {before.end} (fragments must be sorted and not overlap)"
                )
        return self

    def face_ids(self) -> frozenset[int]:
        """Every face ID present in any event."""
        return frozenset(
            face.id
            for fragment in self.fragments
            for event in fragment.events or ()
            for face in event
        )
