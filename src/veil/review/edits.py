"""What a person changes in a review, as operations on (Timeline, ReviewState).

Every edit is one small JSON object (``{"op": "merge", "keep": 1, "drop": 4}``)
applied by :func:`apply`, a pure function: the HTTP layer loads the review,
applies the edit and saves the result, so each edit is stored the moment it
is made.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from veil.annotations import Annotations, Candidate
from veil.errors import VeilError
from veil.review.state import ReviewState, add_span
from veil.review.timeline import (
    ManualTrack,
    Rect,
    Timeline,
    absorb,
    candidate_boxes,
    clean_rect,
    draw_manual,
    extend,
    lying_on,
    manual_face,
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


class Absorb(_Edit):
    """Boxes of other IDs lying on ``id``'s (see :func:`lies_on`) are that face:
    each becomes part of ``id``'s box on its frame (one box covering both). Without
    ``id``, for every face left visible.
    """

    op: Literal["absorb"]
    id: int | None = None


class MarkReviewed(_Edit):
    """Mark frames ``start``..``end`` (inclusive) as reviewed, or as not reviewed."""

    op: Literal["reviewed"]
    start: Frame
    end: Frame
    reviewed: bool = True


class Accept(_Edit):
    """A candidate (face-like, below the threshold) is a face: it becomes a blurred ID."""

    op: Literal["accept"]
    candidate: int


class Dismiss(_Edit):
    """A candidate is not a face: it is no longer shown."""

    op: Literal["dismiss"]
    candidate: int


class NotSame(_Edit):
    """The analysis suggested merging these two IDs; they are not one person."""

    op: Literal["not-same"]
    ids: tuple[int, int]


class Undo(_Edit):
    """Take back the last edit in effect (the history keeps both)."""

    op: Literal["undo"]


class Redo(_Edit):
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


def _candidate(timeline: Timeline, state: ReviewState, number: int) -> Candidate:
    found = [c for c in timeline.template.candidates or () if c.id == number]
    if not found:
        raise VeilError(f"there is no candidate {number}")
    if number in state.accepted:
        raise VeilError(f"candidate {number} was accepted: it is face {state.accepted[number]}")
    if number in state.dismissed:
        raise VeilError(f"candidate {number} was dismissed")
    return found[0]


def _accept(timeline: Timeline, candidate: Candidate, face_id: int) -> Timeline:
    faces = list(timeline.faces)
    for frame, rect in candidate_boxes(timeline, candidate).items():
        faces[frame] = (*faces[frame], manual_face(face_id, frame, rect))
    return timeline.with_faces(faces)


def apply(
    edit: _Edit, timeline: Timeline, state: ReviewState, original: Timeline
) -> tuple[Timeline, ReviewState]:
    """The review after ``edit``; VeilError says why an edit cannot be made.

    A new ID (split off, drawn, accepted) is blurred: nothing becomes visible
    unless a person chooses it.
    """
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
        frames = None
        if edit.start is not None or edit.end is not None:
            first = timeline.check_frame(edit.start if edit.start is not None else 0)
            last = timeline.check_frame(edit.end if edit.end is not None else len(timeline) - 1)
            if last < first:
                raise VeilError("a merge's frames end before they start")
            frames = range(first, last + 1)
        # drawn tracks become plain boxes: one ID cannot have two sets of keyframes
        manual.pop(edit.keep, None)
        manual.pop(edit.drop, None)
        timeline = merge(timeline, edit.drop, edit.keep, frames)
        if edit.drop in selected and frames is None:
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
        selected.add(new_id)
        state = replace(state, origin={**state.origin, new_id: edit.id})
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
        selected.add(new_id)
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
        # everything but the blur type, which is a choice about the output
        state = state.with_choices(
            {**ReviewState.initial(original).choices(), "blur": state.blur.value}
        )
    elif isinstance(edit, Absorb):
        if edit.id is not None:
            _known(timeline, state, edit.id)
        faces = [edit.id] if edit.id is not None else sorted(timeline.ids() - selected)
        lying = {face_id: lying_on(timeline, face_id) for face_id in faces}
        if not any(lying.values()):
            whose = f"face {edit.id}" if edit.id is not None else "a face left visible"
            raise VeilError(f"no box of another face lies on {whose}")
        for face_id, boxes in lying.items():
            for track in {face_id, *(other for _, other in boxes)}:
                manual.pop(track, None)  # their boxes are plain boxes from now on
            timeline = absorb(timeline, face_id)
    elif isinstance(edit, MarkReviewed):
        first, last = timeline.check_frame(edit.start), timeline.check_frame(edit.end)
        if last < first:
            raise VeilError("the frames to mark end before they start")
        state = replace(state, reviewed=add_span(state.reviewed, (first, last), edit.reviewed))
    elif isinstance(edit, Accept):
        candidate = _candidate(timeline, state, edit.candidate)
        new_id, next_id = next_id, next_id + 1
        timeline = _accept(timeline, candidate, new_id)
        selected.add(new_id)
        state = replace(state, accepted={**state.accepted, edit.candidate: new_id})
    elif isinstance(edit, Dismiss):
        _candidate(timeline, state, edit.candidate)
        state = replace(state, dismissed=state.dismissed | {edit.candidate})
    elif isinstance(edit, NotSame):
        a, b = sorted(edit.ids)
        if a == b:
            raise VeilError("choose two different faces")
        state = replace(state, not_same=state.not_same | {(a, b)})
    else:
        raise VeilError(f"{type(edit).__name__.lower()} is not an edit of the boxes")

    selected &= timeline.ids()
    state = replace(
        state,
        selected=frozenset(selected),
        manual=manual,
        next_id=next_id,
        revision=state.revision + 1,
    )
    return timeline, state


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
