"""What a person changes in a review, as operations on (Timeline, ReviewState).

Every edit is one small JSON object (``{"op": "merge", "keep": 1, "drop": 4}``)
applied by :func:`apply`, a pure function: the HTTP layer loads the review,
applies the edit and saves the result, so each edit is stored the moment it
is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from veil.errors import VeilError
from veil.review.timeline import (
    ManualTrack,
    Rect,
    Timeline,
    clean_rect,
    draw_manual,
    extend,
    remove,
    rename,
    set_box,
)
from veil.settings import BlurType


@dataclass(frozen=True)
class ReviewState:
    """Everything about a review besides the boxes.

    Attributes:
        selected: the face IDs to hide (the ID list); every ID at first, as Azure.
        blur: the blur type for previews and the redaction.
        manual: tracks a person drew, by ID: their keyframes and range.
        next_id: the ID the next new track (drawn, or split off) gets; never reused.
        revision: counts the edits.
        redactions: each redaction started from this review: job, IDs, blur, who, when.
        updated_by, updated_at: the last edit's token name and time.
    """

    selected: frozenset[int]
    blur: BlurType = BlurType.MED
    manual: dict[int, ManualTrack] = field(default_factory=dict)
    next_id: int = 1
    revision: int = 0
    redactions: tuple[dict[str, Any], ...] = ()
    updated_by: str | None = None
    updated_at: float | None = None

    @classmethod
    def initial(cls, timeline: Timeline) -> ReviewState:
        ids = timeline.ids()
        return cls(selected=ids, next_id=max(ids, default=0) + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "selected": sorted(self.selected),
            "blur": self.blur.value,
            "manual": [t.to_json() for _, t in sorted(self.manual.items())],
            "next_id": self.next_id,
            "revision": self.revision,
            "redactions": list(self.redactions),
            "updated_by": self.updated_by,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReviewState:
        tracks = [ManualTrack.from_json(t) for t in data.get("manual", [])]
        return cls(
            selected=frozenset(int(i) for i in data.get("selected", [])),
            blur=BlurType(data.get("blur", BlurType.MED.value)),
            manual={t.face_id: t for t in tracks},
            next_id=int(data.get("next_id", 1)),
            revision=int(data.get("revision", 0)),
            redactions=tuple(data.get("redactions", [])),
            updated_by=data.get("updated_by"),
            updated_at=data.get("updated_at"),
        )


# -- the edits, as the API receives them --------------------------------------------

Box = Annotated[
    tuple[float, float, float, float],
    Field(description="x, y, width, height as fractions of the frame (as in the annotations)"),
]
Frame = Annotated[int, Field(ge=0, description="frame index")]


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Select(_Edit):
    """Choose the IDs to hide (the whole list: toggles, all, none and invert send it)."""

    op: Literal["select"]
    ids: list[int]


class ChooseBlur(_Edit):
    op: Literal["blur"]
    blur: BlurType


class Merge(_Edit):
    """``drop`` is the same person as ``keep``: its boxes take ``keep``'s ID."""

    op: Literal["merge"]
    keep: int
    drop: int


class Split(_Edit):
    """The track ``id`` is two people: from ``frame`` on its boxes get a new ID."""

    op: Literal["split"]
    id: int
    frame: Frame


class SetBox(_Edit):
    """Move or resize ``id``'s box on ``frame`` (a keyframe, for a drawn track)."""

    op: Literal["box"]
    id: int
    frame: Frame
    box: Box


class AddBox(_Edit):
    """Draw a box the detector missed: a new track with one keyframe."""

    op: Literal["add"]
    frame: Frame
    box: Box


class Extend(_Edit):
    """Make ``id`` cover every frame from where it is to ``frame``."""

    op: Literal["extend"]
    id: int
    frame: Frame


class Delete(_Edit):
    """Delete ``id``'s box on ``frame``, or the whole track when no frame is given."""

    op: Literal["delete"]
    id: int
    frame: Frame | None = None


class Reset(_Edit):
    """Back to the analysis as it was (the redactions already made stay recorded)."""

    op: Literal["reset"]


Edit = Annotated[
    Select | ChooseBlur | Merge | Split | SetBox | AddBox | Extend | Delete | Reset,
    Field(discriminator="op"),
]


class EditRequest(BaseModel):
    edit: Edit


# -- applying them --------------------------------------------------------------------


def _known(timeline: Timeline, state: ReviewState, face_id: int) -> None:
    if face_id not in timeline.ids() and face_id not in state.manual:
        raise VeilError(f"there is no face {face_id}")


def _split_manual(track: ManualTrack, frame: int, new_id: int) -> tuple[ManualTrack, ManualTrack]:
    if not track.start < frame <= track.end:
        raise VeilError(
            f"face {track.face_id} runs over frames {track.start}..{track.end}: "
            f"split it at a frame after its first"
        )
    before = tuple((f, r) for f, r in track.keys if f < frame)
    after = tuple((f, r) for f, r in track.keys if f >= frame)
    first = ManualTrack(
        track.face_id, track.start, frame - 1, (*before, (frame - 1, track.box_at(frame - 1)))
    )
    first = replace(first, keys=tuple(sorted(dict(first.keys).items())))
    second = ManualTrack(new_id, frame, track.end, ((frame, track.box_at(frame)), *after))
    second = replace(second, keys=tuple(sorted(dict(second.keys).items())))
    return first, second


def apply(
    edit: _Edit, timeline: Timeline, state: ReviewState, original: Timeline
) -> tuple[Timeline, ReviewState]:
    """The review after ``edit``; VeilError says why an edit cannot be made."""
    manual = dict(state.manual)
    selected = set(state.selected)
    next_id = state.next_id

    if isinstance(edit, Select):
        unknown = set(edit.ids) - timeline.ids()
        if unknown:
            raise VeilError(f"no face {', '.join(map(str, sorted(unknown)))} in this video")
        selected = set(edit.ids)
    elif isinstance(edit, ChooseBlur):
        state = replace(state, blur=edit.blur)
    elif isinstance(edit, Merge):
        if edit.keep == edit.drop:
            raise VeilError("choose two different faces to merge")
        _known(timeline, state, edit.keep)
        _known(timeline, state, edit.drop)
        # drawn tracks become plain boxes: one ID cannot have two sets of keyframes
        manual.pop(edit.keep, None)
        manual.pop(edit.drop, None)
        timeline = rename(timeline, edit.drop, edit.keep)
        if edit.drop in selected:
            selected.add(edit.keep)  # if either was hidden, the person stays hidden
    elif isinstance(edit, Split):
        _known(timeline, state, edit.id)
        timeline.check_frame(edit.frame)
        new_id, next_id = next_id, next_id + 1
        if edit.id in manual:
            first, second = _split_manual(manual[edit.id], edit.frame, new_id)
            manual[first.face_id], manual[second.face_id] = first, second
            timeline = draw_manual(draw_manual(timeline, first), second)
        else:
            frames = [i for i, _ in timeline.boxes_of(edit.id)]
            if not any(i < edit.frame for i in frames) or not any(i >= edit.frame for i in frames):
                raise VeilError(
                    f"face {edit.id} has boxes on frames {frames[0]}..{frames[-1]}: "
                    "split it at a frame after its first"
                )
            timeline = rename(timeline, edit.id, new_id, from_frame=edit.frame)
        if edit.id in selected:
            selected.add(new_id)
    elif isinstance(edit, SetBox):
        _known(timeline, state, edit.id)
        timeline.check_frame(edit.frame)
        if edit.id in manual:
            manual[edit.id] = manual[edit.id].with_key(edit.frame, edit.box)
            timeline = draw_manual(timeline, manual[edit.id])
        else:
            timeline = set_box(timeline, edit.id, edit.frame, edit.box)
    elif isinstance(edit, AddBox):
        timeline.check_frame(edit.frame)
        new_id, next_id = next_id, next_id + 1
        rect: Rect = clean_rect(edit.box)
        manual[new_id] = ManualTrack(new_id, edit.frame, edit.frame, ((edit.frame, rect),))
        timeline = draw_manual(timeline, manual[new_id])
        selected.add(new_id)  # drawn to be hidden
    elif isinstance(edit, Extend):
        _known(timeline, state, edit.id)
        timeline.check_frame(edit.frame)
        if edit.id in manual:
            track = manual[edit.id]
            track = replace(
                track, start=min(track.start, edit.frame), end=max(track.end, edit.frame)
            )
            manual[edit.id] = track
            timeline = draw_manual(timeline, track)
        else:
            timeline = extend(timeline, edit.id, edit.frame)
    elif isinstance(edit, Delete):
        _known(timeline, state, edit.id)
        track = manual.get(edit.id)
        whole = edit.frame is None or (track is not None and track.start == track.end)
        if whole:
            manual.pop(edit.id, None)
            timeline = remove(timeline, edit.id)
        elif track is not None:
            assert edit.frame is not None
            if edit.frame == track.start:
                track = replace(track, start=track.start + 1)
            elif edit.frame == track.end:
                track = replace(track, end=track.end - 1)
            else:
                raise VeilError(
                    f"face {edit.id} was drawn over frames {track.start}..{track.end}: "
                    "remove its first or last box, split it, or delete it whole"
                )
            manual[edit.id] = track
            timeline = draw_manual(timeline, track)
        else:
            timeline = remove(timeline, edit.id, edit.frame)
    elif isinstance(edit, Reset):
        timeline = original
        manual = {}
        selected = set(original.ids())
    else:  # pragma: no cover - the union above is exhaustive
        raise VeilError(f"unknown edit {edit!r}")

    selected &= timeline.ids()
    state = replace(
        state,
        selected=frozenset(selected),
        manual=manual,
        next_id=next_id,
        revision=state.revision + 1,
    )
    return timeline, state
