"""Annotations as a list of frames that a person edits, and back.

The review app edits faces frame by frame. :class:`Timeline` turns an
:class:`~veil.annotations.Annotations` file into one entry per video frame
(its start tick and its faces) and writes the edits back into the very same
fragments, so timing, ``timescale`` and everything Azure tools read stay as
the analysis wrote them.

Boxes are normalised ``(x, y, width, height)`` as in the file. Boxes that a
person drew, moved, resized or that were interpolated from a person's
keyframes carry ``manual: true`` and lose their detector ``confidence``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from veil.annotations import Annotations, Candidate, Face
from veil.errors import VeilError
from veil.geometry import intersection

Rect = tuple[float, float, float, float]  # x, y, width, height, normalised

_DECIMALS = 5
_MIN_SIZE = 10.0**-_DECIMALS


def clean_rect(rect: Iterable[float]) -> Rect:
    """A box rounded as veil writes them, with a size that stays valid (> 0)."""
    x, y, w, h = (float(v) for v in rect)
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise VeilError("a box needs finite numbers")
    if w <= 0 or h <= 0:
        raise VeilError("a box needs a width and a height above 0")
    return (
        round(x, _DECIMALS),
        round(y, _DECIMALS),
        max(round(w, _DECIMALS), _MIN_SIZE),
        max(round(h, _DECIMALS), _MIN_SIZE),
    )


def rect_of(face: Face) -> Rect:
    return (face.x, face.y, face.width, face.height)


def manual_face(face_id: int, frame: int, rect: Rect) -> Face:
    x, y, w, h = clean_rect(rect)
    return Face(index=frame, id=face_id, x=x, y=y, width=w, height=h, manual=True)


def lerp(a: Rect, b: Rect, t: float) -> Rect:
    return tuple(p + (q - p) * t for p, q in zip(a, b, strict=True))  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class Timeline:
    """Every frame of a video with its faces, laid on the fragments of an annotations file.

    Attributes:
        template: the annotations whose fragments and timing are kept; every
            fragment has events (Azure's empty fragments were filled in).
        starts: each frame's start in ticks (without ``offset``), increasing.
        durations: ticks each frame covers.
        faces: each frame's faces.
    """

    template: Annotations
    starts: tuple[int, ...]
    durations: tuple[int, ...]
    faces: tuple[tuple[Face, ...], ...]

    @classmethod
    def from_annotations(cls, annotations: Annotations) -> Timeline:
        """One entry per event; fragments without events get events at the frame rate."""
        fragments = []
        starts: list[int] = []
        durations: list[int] = []
        faces: list[tuple[Face, ...]] = []
        for fragment in annotations.fragments:
            if fragment.events is None or fragment.interval is None:
                if annotations.framerate <= 0 or fragment.duration == 0:
                    fragments.append(fragment)
                    continue
                interval = max(1, round(annotations.timescale / annotations.framerate))
                slots = math.ceil(fragment.duration / interval)
                fragment = fragment.model_copy(
                    update={"interval": interval, "events": tuple(() for _ in range(slots))}
                )
            fragments.append(fragment)
            assert fragment.events is not None and fragment.interval is not None
            for k, event in enumerate(fragment.events):
                start = fragment.start + k * fragment.interval
                if start >= fragment.end and k > 0:
                    break  # Azure's extra event past the duration
                starts.append(start)
                durations.append(max(1, min(fragment.interval, fragment.end - start)))
                faces.append(tuple(event))
        template = annotations.model_copy(update={"fragments": tuple(fragments)})
        return cls(template, tuple(starts), tuple(durations), tuple(faces))

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def end(self) -> int:
        return self.starts[-1] + self.durations[-1] if self.starts else 0

    def frame_at(self, tick: int) -> int | None:
        """The frame covering ``tick`` (without offset), or None outside the video."""
        i = bisect_right(self.starts, tick) - 1
        if i < 0 or tick >= self.starts[i] + self.durations[i]:
            return None
        return i

    def check_frame(self, frame: int) -> int:
        if not 0 <= frame < len(self):
            raise VeilError(f"frame {frame} is not in the video (0..{len(self) - 1})")
        return frame

    def ids(self) -> frozenset[int]:
        return frozenset(face.id for frame in self.faces for face in frame)

    def tracks(self) -> dict[int, list[tuple[int, Face]]]:
        """Every ID's (frame, face) boxes, in frame order, in one pass."""
        found: dict[int, list[tuple[int, Face]]] = {}
        for frame, faces in enumerate(self.faces):
            for face in faces:
                found.setdefault(face.id, []).append((frame, face))
        return found

    def boxes_of(self, face_id: int) -> Iterator[tuple[int, Face]]:
        """(frame, face) for every box with this ID."""
        for frame, faces in enumerate(self.faces):
            for face in faces:
                if face.id == face_id:
                    yield frame, face

    def with_faces(self, faces: list[tuple[Face, ...]] | tuple[tuple[Face, ...], ...]) -> Timeline:
        ordered = tuple(tuple(sorted(f, key=lambda face: face.id)) for f in faces)
        return replace(self, faces=ordered)

    def to_annotations(self) -> Annotations:
        """The edited faces in the template's fragments; ``facesDetected`` counts the IDs."""
        fragments = []
        frame = 0
        for fragment in self.template.fragments:
            if fragment.events is None:
                fragments.append(fragment)
                continue
            events = list(fragment.events)
            for k in range(len(events)):
                start = fragment.start + k * (fragment.interval or 1)
                if start >= fragment.end and k > 0:
                    events[k] = ()
                    continue
                events[k] = self.faces[frame]
                frame += 1
            fragments.append(fragment.model_copy(update={"events": tuple(events)}))
        return self.template.model_copy(
            update={"fragments": tuple(fragments), "facesDetected": len(self.ids())}
        )


def candidate_boxes(timeline: Timeline, candidate: Candidate) -> dict[int, Rect]:
    """The candidate's boxes by the frame they are shown on (found by their tick)."""
    boxes: dict[int, Rect] = {}
    for box in candidate.boxes:
        frame = timeline.frame_at(box.start)
        if frame is None and 0 <= box.index < len(timeline):
            frame = box.index
        if frame is not None:
            boxes.setdefault(frame, (box.x, box.y, box.width, box.height))
    return boxes


def accept_candidate(timeline: Timeline, candidate: Candidate, face_id: int) -> Timeline:
    """``timeline`` with the candidate's boxes as the boxes of ``face_id``."""
    faces = list(timeline.faces)
    for frame, rect in candidate_boxes(timeline, candidate).items():
        faces[frame] = (*faces[frame], manual_face(face_id, frame, rect))
    return timeline.with_faces(faces)


# -- tracks a person drew ---------------------------------------------------------


@dataclass(frozen=True)
class ManualTrack:
    """A box a person drew on some frames (keyframes), held or interpolated from ``start`` to
    ``end`` (inclusive): linear between two keyframes, the nearest keyframe's box outside them.
    """

    face_id: int
    start: int
    end: int
    keys: tuple[tuple[int, Rect], ...]  # (frame, box), sorted by frame, at least one

    def __post_init__(self) -> None:
        if not self.keys:
            raise VeilError(f"face {self.face_id}: a drawn box needs at least one keyframe")
        if self.start > self.end:
            raise VeilError(f"face {self.face_id}: its range ends before it starts")

    def box_at(self, frame: int) -> Rect:
        frames = [f for f, _ in self.keys]
        i = bisect_right(frames, frame)
        if i == 0:
            return self.keys[0][1]
        if i == len(frames):
            return self.keys[-1][1]
        (f0, a), (f1, b) = self.keys[i - 1], self.keys[i]
        return lerp(a, b, (frame - f0) / (f1 - f0))

    def with_key(self, frame: int, rect: Rect) -> ManualTrack:
        keys = dict(self.keys)
        keys[frame] = clean_rect(rect)
        return replace(
            self,
            start=min(self.start, frame),
            end=max(self.end, frame),
            keys=tuple(sorted(keys.items())),
        )

    def split_at(self, frame: int, new_id: int) -> tuple[ManualTrack, ManualTrack]:
        """This track up to ``frame``, and from ``frame`` on as ``new_id``: each part keeps
        the box it had at the cut as a keyframe."""
        if not self.start < frame <= self.end:
            raise VeilError(
                f"face {self.face_id} runs over frames {self.start}..{self.end}: "
                f"split it at a frame after its first"
            )
        before = tuple((f, r) for f, r in self.keys if f < frame)
        after = tuple((f, r) for f, r in self.keys if f >= frame)
        first = ManualTrack(
            self.face_id, self.start, frame - 1, (*before, (frame - 1, self.box_at(frame - 1)))
        )
        first = replace(first, keys=tuple(sorted(dict(first.keys).items())))
        second = ManualTrack(new_id, frame, self.end, ((frame, self.box_at(frame)), *after))
        second = replace(second, keys=tuple(sorted(dict(second.keys).items())))
        return first, second

    def to_json(self) -> dict:
        return {
            "id": self.face_id,
            "start": self.start,
            "end": self.end,
            "keys": [[f, list(r)] for f, r in self.keys],
        }

    @classmethod
    def from_json(cls, data: dict) -> ManualTrack:
        return cls(
            face_id=int(data["id"]),
            start=int(data["start"]),
            end=int(data["end"]),
            keys=tuple((int(f), clean_rect(r)) for f, r in data["keys"]),
        )


def draw_manual(timeline: Timeline, track: ManualTrack) -> Timeline:
    """The timeline with the track's ID replaced by its boxes on ``start..end``."""
    faces = [tuple(f for f in frame if f.id != track.face_id) for frame in timeline.faces]
    for frame in range(max(track.start, 0), min(track.end, len(timeline) - 1) + 1):
        faces[frame] = (*faces[frame], manual_face(track.face_id, frame, track.box_at(frame)))
    return timeline.with_faces(faces)


# -- edits on any track -------------------------------------------------------------


def rename(timeline: Timeline, old: int, new: int, from_frame: int = 0) -> Timeline:
    """Boxes of ``old`` on frames ``from_frame`` onwards get the ID ``new``."""
    faces = [
        tuple(
            f.model_copy(update={"id": new}) if f.id == old and i >= from_frame else f
            for f in frame
        )
        for i, frame in enumerate(timeline.faces)
    ]
    return timeline.with_faces(faces)


def union(a: Rect, b: Rect) -> Rect:
    """The smallest box holding both."""
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def shared_frames(timeline: Timeline, a: int, b: int) -> list[int]:
    """The frames on which both IDs have a box."""
    return [
        i
        for i, faces in enumerate(timeline.faces)
        if any(f.id == a for f in faces) and any(f.id == b for f in faces)
    ]


def merge(timeline: Timeline, drop: int, keep: int, frames: range | None = None) -> Timeline:
    """``drop``'s boxes (on ``frames``, else all) take the ID ``keep``; where both have a
    box on a frame, one box covering both (their union, manual) replaces them, so no
    frame holds one ID twice.
    """
    faces = []
    for i, frame in enumerate(timeline.faces):
        if frames is not None and i not in frames:
            faces.append(frame)
            continue
        ours = [f for f in frame if f.id in (keep, drop)]
        rest = tuple(f for f in frame if f.id not in (keep, drop))
        if len(ours) == 2:
            merged = (manual_face(keep, i, union(rect_of(ours[0]), rect_of(ours[1]))),)
        else:
            merged = tuple(f.model_copy(update={"id": keep}) for f in ours)
        faces.append((*rest, *merged))
    return timeline.with_faces(faces)


# a box lies on another when this share of it is inside the other (its centre too):
# a neighbour's face, next to it or behind it, is never this far inside
LYING_SHARE = 0.6
# ...or when the two boxes overlap this much (intersection over union): a track that
# slid onto the face, off centre; two people's face boxes overlap less
SLID_IOU = 0.2


def lies_on(face: Face, box: Face) -> bool:
    """Whether ``face`` is a second box on ``box``'s face: its centre inside ``box`` and
    :data:`LYING_SHARE` of it too, or the two overlapping by :data:`SLID_IOU`.
    """
    [[overlap]] = intersection(
        [[face.x, face.y, face.x + face.width, face.y + face.height]],
        [[box.x, box.y, box.x + box.width, box.y + box.height]],
    )
    face_area, box_area = face.width * face.height, box.width * box.height
    if overlap >= SLID_IOU * (face_area + box_area - overlap):
        return True
    cx, cy = face.x + face.width / 2, face.y + face.height / 2
    centred = box.x <= cx <= box.x + box.width and box.y <= cy <= box.y + box.height
    return centred and overlap >= LYING_SHARE * face_area


def lying_on(timeline: Timeline, face_id: int) -> list[tuple[int, int]]:
    """(frame, other ID) for each box of another ID lying on ``face_id``'s box on that
    frame (see :func:`lies_on`): a track that drifted onto the face, or a second track on it.
    """
    found = []
    for i, frame in enumerate(timeline.faces):
        mine = [f for f in frame if f.id == face_id]
        if mine:
            found += [(i, f.id) for f in frame if f.id != face_id and lies_on(f, mine[0])]
    return found


def absorb(timeline: Timeline, face_id: int) -> Timeline:
    """Every box lying on ``face_id``'s (see :func:`lying_on`) becomes part of it: one box
    covering both (their union, manual) on that frame.
    """
    faces = list(timeline.faces)
    for i, other in lying_on(timeline, face_id):
        frame = faces[i]
        [mine] = [f for f in frame if f.id == face_id]
        [theirs] = [f for f in frame if f.id == other]
        rest = tuple(f for f in frame if f.id not in (face_id, other))
        faces[i] = (*rest, manual_face(face_id, i, union(rect_of(mine), rect_of(theirs))))
    return timeline.with_faces(faces)


def remove(timeline: Timeline, face_id: int, frame: int | None = None) -> Timeline:
    """Remove the ID's box on ``frame``, or every box of the ID."""
    faces = [
        tuple(f for f in faces if not (f.id == face_id and (frame is None or i == frame)))
        for i, faces in enumerate(timeline.faces)
    ]
    return timeline.with_faces(faces)


def set_box(timeline: Timeline, face_id: int, frame: int, rect: Rect) -> Timeline:
    """Put (move, resize or add) the ID's box on one frame; it becomes manual."""
    timeline.check_frame(frame)
    faces = list(timeline.faces)
    kept = tuple(f for f in faces[frame] if f.id != face_id)
    faces[frame] = (*kept, manual_face(face_id, frame, rect))
    return timeline.with_faces(faces)


def extend(timeline: Timeline, face_id: int, frame: int) -> Timeline:
    """Give a detected track a box on ``frame`` and every frame between it and the track.

    Past either end of the track the nearest box is held; inside a gap the
    boxes on both sides are interpolated. The new boxes are manual.
    """
    timeline.check_frame(frame)
    have = {i: rect_of(f) for i, f in timeline.boxes_of(face_id)}
    if not have:
        raise VeilError(f"face {face_id} has no box to extend")
    if frame in have:
        return timeline
    before = max((i for i in have if i < frame), default=None)
    after = min((i for i in have if i > frame), default=None)
    faces = list(timeline.faces)
    if before is not None and after is not None:
        span = range(before + 1, after)
    elif before is not None:
        span = range(before + 1, frame + 1)
    else:
        assert after is not None
        span = range(frame, after)
    for i in span:
        if before is not None and after is not None:
            rect = lerp(have[before], have[after], (i - before) / (after - before))
        else:
            rect = have[before if before is not None else after]  # type: ignore[index]
        faces[i] = (*faces[i], manual_face(face_id, i, rect))
    return timeline.with_faces(faces)


@dataclass(frozen=True)
class FaceSummary:
    """What the gallery shows of one ID."""

    face_id: int
    first: int
    last: int
    frames: int
    size: float  # median box area as a fraction of the frame
    manual: bool  # drawn by a person
    edited: bool  # some of its boxes were changed by a person


def summaries(timeline: Timeline, manual_ids: Iterable[int] = ()) -> list[FaceSummary]:
    drawn = set(manual_ids)
    seen = timeline.tracks()
    out = []
    for face_id, boxes in sorted(seen.items()):
        areas = sorted(f.width * f.height for _, f in boxes)
        out.append(
            FaceSummary(
                face_id=face_id,
                first=boxes[0][0],
                last=boxes[-1][0],
                frames=len({i for i, _ in boxes}),
                size=areas[len(areas) // 2],
                manual=face_id in drawn,
                edited=any(f.manual for _, f in boxes),
            )
        )
    return out
