"""What a person changes in a review, as operations on (Timeline, ReviewState).

Every edit is one small JSON object (``{"op": "merge", "keep": 1, "drop": 4}``)
applied by :func:`apply`, a pure function: the HTTP layer loads the review,
applies the edit and saves the result, so each edit is stored the moment it
is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from veil.annotations import Annotations, Candidate
from veil.errors import VeilError
from veil.review.state import ReviewState, add_span
from veil.review.timeline import (
    ManualTrack,
    Rect,
    Timeline,
    absorb,
    accept_candidate,
    clean_rect,
    draw_manual,
    extend,
    lying_on,
    merge,
    remove,
    rename,
    set_box,
)
from veil.settings import BlurType

# -- the edits, as the API receives them --------------------------------------------

Box = Annotated[
    tuple[float, float, float, float],
    Field(description="x, y, width, height as fractions of the frame (as in the annotations)"),
]
Frame = Annotated[int, Field(ge=0, description="frame index")]


class BaseEdit(BaseModel):
    """What every edit is: a strict JSON object (unknown fields refused)."""

    model_config = ConfigDict(extra="forbid")


class Select(BaseEdit):
    """Choose the IDs to hide (the whole list: toggles, all, none and invert send it)."""

    op: Literal["select"]
    ids: list[int]


class ChooseBlur(BaseEdit):
    op: Literal["blur"]
    blur: BlurType


class Merge(BaseEdit):
    """``drop`` is the same person as ``keep``: its boxes take ``keep``'s ID.

    With ``start`` and ``end``, only ``drop``'s boxes on those frames do (the rest
    stays ``drop``), and they are blurred or not as ``keep`` is: a track that slid
    onto a face there. A whole merge leaves the person blurred if either was.
    Where both have a box on a frame, one box covering both replaces them: one ID
    never has two boxes on a frame.
    """

    op: Literal["merge"]
    keep: int
    drop: int
    start: Frame | None = None
    end: Frame | None = None


class Split(BaseEdit):
    """The track ``id`` is two people: from ``frame`` on its boxes get a new ID."""

    op: Literal["split"]
    id: int
    frame: Frame


class SetBox(BaseEdit):
    """Move or resize ``id``'s box on ``frame`` (a keyframe, for a drawn track)."""

    op: Literal["box"]
    id: int
    frame: Frame
    box: Box


class AddBox(BaseEdit):
    """Draw a box the detector missed: a new track with one keyframe."""

    op: Literal["add"]
    frame: Frame
    box: Box


class Extend(BaseEdit):
    """Make ``id`` cover every frame from where it is to ``frame``."""

    op: Literal["extend"]
    id: int
    frame: Frame


class Delete(BaseEdit):
    """Delete ``id``'s box on ``frame``, or the whole track when no frame is given."""

    op: Literal["delete"]
    id: int
    frame: Frame | None = None


class Reset(BaseEdit):
    """Back to the analysis as it was (the redactions already made stay recorded)."""

    op: Literal["reset"]


class Absorb(BaseEdit):
    """Boxes of other IDs lying on ``id``'s (see :func:`lies_on`) are that face:
    each becomes part of ``id``'s box on its frame (one box covering both). Without
    ``id``, for every face left visible.
    """

    op: Literal["absorb"]
    id: int | None = None


class MarkReviewed(BaseEdit):
    """Mark frames ``start``..``end`` (inclusive) as reviewed, or as not reviewed."""

    op: Literal["reviewed"]
    start: Frame
    end: Frame
    reviewed: bool = True


class Accept(BaseEdit):
    """A candidate (face-like, below the threshold) is a face: it becomes a blurred ID."""

    op: Literal["accept"]
    candidate: int


class Dismiss(BaseEdit):
    """A candidate is not a face: it is no longer shown."""

    op: Literal["dismiss"]
    candidate: int


class NotSame(BaseEdit):
    """The analysis suggested merging these two IDs; they are not one person."""

    op: Literal["not-same"]
    ids: tuple[int, int]


class Undo(BaseEdit):
    """Take back the last edit in effect (the history keeps both)."""

    op: Literal["undo"]


class Redo(BaseEdit):
    """Bring back the last edit undone (until a new edit is made)."""

    op: Literal["redo"]


Edit = Annotated[
    Select
    | ChooseBlur
    | Merge
    | Split
    | SetBox
    | AddBox
    | Extend
    | Delete
    | Reset
    | Absorb
    | MarkReviewed
    | Accept
    | Dismiss
    | NotSame
    | Undo
    | Redo,
    Field(discriminator="op"),
]


class EditRequest(BaseModel):
    edit: Edit


# -- applying them --------------------------------------------------------------------


def _known(timeline: Timeline, state: ReviewState, face_id: int) -> None:
    if face_id not in timeline.ids() and face_id not in state.manual:
        raise VeilError(f"there is no face {face_id}")


def _candidate(timeline: Timeline, state: ReviewState, number: int) -> Candidate:
    found = [c for c in timeline.template.candidates or () if c.id == number]
    if not found:
        raise VeilError(f"there is no candidate {number}")
    if number in state.accepted:
        raise VeilError(f"candidate {number} was accepted: it is face {state.accepted[number]}")
    if number in state.dismissed:
        raise VeilError(f"candidate {number} was dismissed")
    return found[0]


@dataclass
class _Draft:
    """The review while one edit is applied to it: each handler changes what it must."""

    timeline: Timeline
    state: ReviewState
    original: Timeline
    manual: dict[int, ManualTrack] = field(default_factory=dict)
    selected: set[int] = field(default_factory=set)
    next_id: int = 0

    def new_id(self) -> int:
        new_id, self.next_id = self.next_id, self.next_id + 1
        return new_id

    def known(self, face_id: int) -> None:
        _known(self.timeline, self.state, face_id)

    def finished(self) -> tuple[Timeline, ReviewState]:
        self.selected &= self.timeline.ids()
        state = replace(
            self.state,
            selected=frozenset(self.selected),
            manual=self.manual,
            next_id=self.next_id,
            revision=self.state.revision + 1,
        )
        return self.timeline, state


def _select(edit: Select, d: _Draft) -> None:
    unknown = set(edit.ids) - d.timeline.ids()
    if unknown:
        raise VeilError(f"no face {', '.join(map(str, sorted(unknown)))} in this video")
    d.selected = set(edit.ids)


def _choose_blur(edit: ChooseBlur, d: _Draft) -> None:
    d.state = replace(d.state, blur=edit.blur)


def _merge(edit: Merge, d: _Draft) -> None:
    if edit.keep == edit.drop:
        raise VeilError("choose two different faces to merge")
    d.known(edit.keep)
    d.known(edit.drop)
    frames = None
    if edit.start is not None or edit.end is not None:
        first = d.timeline.check_frame(edit.start if edit.start is not None else 0)
        last = d.timeline.check_frame(edit.end if edit.end is not None else len(d.timeline) - 1)
        if last < first:
            raise VeilError("a merge's frames end before they start")
        frames = range(first, last + 1)
    # drawn tracks become plain boxes: one ID cannot have two sets of keyframes
    d.manual.pop(edit.keep, None)
    d.manual.pop(edit.drop, None)
    d.timeline = merge(d.timeline, edit.drop, edit.keep, frames)
    if edit.drop in d.selected and frames is None:
        d.selected.add(edit.keep)  # if either was hidden, the person stays hidden


def _split(edit: Split, d: _Draft) -> None:
    d.known(edit.id)
    d.timeline.check_frame(edit.frame)
    new_id = d.new_id()
    if edit.id in d.manual:
        first, second = d.manual[edit.id].split_at(edit.frame, new_id)
        d.manual[first.face_id], d.manual[second.face_id] = first, second
        d.timeline = draw_manual(draw_manual(d.timeline, first), second)
    else:
        frames = [i for i, _ in d.timeline.boxes_of(edit.id)]
        if not any(i < edit.frame for i in frames) or not any(i >= edit.frame for i in frames):
            raise VeilError(
                f"face {edit.id} has boxes on frames {frames[0]}..{frames[-1]}: "
                "split it at a frame after its first"
            )
        d.timeline = rename(d.timeline, edit.id, new_id, from_frame=edit.frame)
    d.selected.add(new_id)
    d.state = replace(d.state, origin={**d.state.origin, new_id: edit.id})


def _set_box(edit: SetBox, d: _Draft) -> None:
    d.known(edit.id)
    d.timeline.check_frame(edit.frame)
    if edit.id in d.manual:
        d.manual[edit.id] = d.manual[edit.id].with_key(edit.frame, edit.box)
        d.timeline = draw_manual(d.timeline, d.manual[edit.id])
    else:
        d.timeline = set_box(d.timeline, edit.id, edit.frame, edit.box)


def _add_box(edit: AddBox, d: _Draft) -> None:
    d.timeline.check_frame(edit.frame)
    new_id = d.new_id()
    rect: Rect = clean_rect(edit.box)
    d.manual[new_id] = ManualTrack(new_id, edit.frame, edit.frame, ((edit.frame, rect),))
    d.timeline = draw_manual(d.timeline, d.manual[new_id])
    d.selected.add(new_id)


def _extend(edit: Extend, d: _Draft) -> None:
    d.known(edit.id)
    d.timeline.check_frame(edit.frame)
    if edit.id in d.manual:
        track = d.manual[edit.id]
        track = replace(track, start=min(track.start, edit.frame), end=max(track.end, edit.frame))
        d.manual[edit.id] = track
        d.timeline = draw_manual(d.timeline, track)
    else:
        d.timeline = extend(d.timeline, edit.id, edit.frame)


def _delete(edit: Delete, d: _Draft) -> None:
    d.known(edit.id)
    track = d.manual.get(edit.id)
    if edit.frame is None or (track is not None and track.start == track.end):
        d.manual.pop(edit.id, None)
        d.timeline = remove(d.timeline, edit.id)
    elif track is None:
        d.timeline = remove(d.timeline, edit.id, edit.frame)
    else:
        if edit.frame == track.start:
            track = replace(track, start=track.start + 1)
        elif edit.frame == track.end:
            track = replace(track, end=track.end - 1)
        else:
            raise VeilError(
                f"face {edit.id} was drawn over frames {track.start}..{track.end}: "
                "remove its first or last box, split it, or delete it whole"
            )
        d.manual[edit.id] = track
        d.timeline = draw_manual(d.timeline, track)


def _reset(edit: Reset, d: _Draft) -> None:
    d.timeline, d.manual, d.selected = d.original, {}, set(d.original.ids())
    # everything but the blur type, which is a choice about the output
    choices = {**ReviewState.initial(d.original).choices(), "blur": d.state.blur.value}
    d.state = d.state.with_choices(choices)


def _absorb(edit: Absorb, d: _Draft) -> None:
    if edit.id is not None:
        d.known(edit.id)
    faces = [edit.id] if edit.id is not None else sorted(d.timeline.ids() - d.selected)
    lying = {face_id: lying_on(d.timeline, face_id) for face_id in faces}
    if not any(lying.values()):
        whose = f"face {edit.id}" if edit.id is not None else "a face left visible"
        raise VeilError(f"no box of another face lies on {whose}")
    for face_id, boxes in lying.items():
        for track in {face_id, *(other for _, other in boxes)}:
            d.manual.pop(track, None)  # their boxes are plain boxes from now on
        d.timeline = absorb(d.timeline, face_id)


def _mark_reviewed(edit: MarkReviewed, d: _Draft) -> None:
    first, last = d.timeline.check_frame(edit.start), d.timeline.check_frame(edit.end)
    if last < first:
        raise VeilError("the frames to mark end before they start")
    d.state = replace(d.state, reviewed=add_span(d.state.reviewed, (first, last), edit.reviewed))


def _accept_candidate(edit: Accept, d: _Draft) -> None:
    candidate = _candidate(d.timeline, d.state, edit.candidate)
    new_id = d.new_id()
    d.timeline = accept_candidate(d.timeline, candidate, new_id)
    d.selected.add(new_id)
    d.state = replace(d.state, accepted={**d.state.accepted, edit.candidate: new_id})


def _dismiss(edit: Dismiss, d: _Draft) -> None:
    _candidate(d.timeline, d.state, edit.candidate)
    d.state = replace(d.state, dismissed=d.state.dismissed | {edit.candidate})


def _not_same(edit: NotSame, d: _Draft) -> None:
    a, b = sorted(edit.ids)
    if a == b:
        raise VeilError("choose two different faces")
    d.state = replace(d.state, not_same=d.state.not_same | {(a, b)})


# One handler per edit of the boxes and choices (undo and redo are the history's).
_HANDLERS: dict[type[BaseEdit], Callable[[Any, _Draft], None]] = {
    Select: _select,
    ChooseBlur: _choose_blur,
    Merge: _merge,
    Split: _split,
    SetBox: _set_box,
    AddBox: _add_box,
    Extend: _extend,
    Delete: _delete,
    Reset: _reset,
    Absorb: _absorb,
    MarkReviewed: _mark_reviewed,
    Accept: _accept_candidate,
    Dismiss: _dismiss,
    NotSame: _not_same,
}


def apply(
    edit: BaseEdit, timeline: Timeline, state: ReviewState, original: Timeline
) -> tuple[Timeline, ReviewState]:
    """The review after ``edit``; VeilError says why an edit cannot be made.

    A new ID (split off, drawn, accepted) is blurred: nothing becomes visible
    unless a person chooses it.
    """
    handler = _HANDLERS.get(type(edit))
    if handler is None:
        raise VeilError(f"{type(edit).__name__.lower()} is not an edit of the boxes")
    draft = _Draft(
        timeline, state, original, dict(state.manual), set(state.selected), state.next_id
    )
    handler(edit, draft)
    return draft.finished()


def exported(timeline: Timeline, state: ReviewState) -> Annotations:
    """The annotations a redaction uses and a person downloads.

    The boxes as edited, with veil's extras brought up to date: the candidates
    nobody decided on yet, each ID's confidence (a part split off an ID shares
    its confidence), and the merge suggestions whose two IDs still exist and
    were not dismissed.

    Raises:
        VeilError: a frame holds one ID twice (no edit makes one; an export
            must never carry one).
    """
    for frame, faces in enumerate(timeline.faces):
        ids = [f.id for f in faces]
        if len(ids) != len(set(ids)):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise VeilError(f"frame {frame} holds face {twice[0]} twice: not exported")
    annotations = timeline.to_annotations()
    present = timeline.ids()
    info = {i.id: i for i in annotations.ids or ()}
    ids = tuple(
        info[state.root(i)].model_copy(update={"id": i})
        for i in sorted(present)
        if state.root(i) in info
    )
    candidates = tuple(
        c
        for c in annotations.candidates or ()
        if c.id not in state.accepted and c.id not in state.dismissed
    )
    suggestions = tuple(
        s
        for s in annotations.mergeSuggestions or ()
        if set(s.ids) <= present and tuple(sorted(s.ids)) not in state.not_same
    )
    return annotations.model_copy(
        update={
            "ids": ids or None,
            "candidates": candidates or None,
            "mergeSuggestions": suggestions or None,
        }
    )
