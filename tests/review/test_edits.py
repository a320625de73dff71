"""Review edits as pure functions on annotations: merge, split, draw, extend, move, delete."""

from __future__ import annotations

import random

import pytest

from review.annotated import annotations, face, ids_on, start, timeline_of
from veil.annotations import Annotations, dump_annotations, parse_annotations
from veil.errors import VeilError
from veil.review.edits import (
    Absorb,
    AddBox,
    Delete,
    Extend,
    Merge,
    Reset,
    Select,
    SetBox,
    Split,
    apply,
    exported,
)
from veil.review.history import Change
from veil.review.state import ReviewState
from veil.review.timeline import Timeline, lying_on


def test_round_trip_keeps_every_fragment_and_tick():
    a = annotations()
    tl = Timeline.from_annotations(a)
    assert len(tl) == 10
    assert tl.starts == tuple(range(0, 100, 10))
    assert tl.frame_at(59) == 5 and tl.frame_at(60) == 6 and tl.frame_at(100) is None
    back = tl.to_annotations()
    assert dump_annotations(back) == dump_annotations(a.model_copy(update={"facesDetected": 2}))


def test_azure_fragment_without_events_gets_frames():
    a = Annotations.model_validate(
        {
            "timescale": 100,
            "framerate": 10.0,
            "width": 64,
            "height": 36,
            "fragments": [{"start": 0, "duration": 30}],
        }
    )
    tl = Timeline.from_annotations(a)
    assert len(tl) == 3
    state = ReviewState.initial(tl)
    tl, state = apply(AddBox(op="add", frame=1, box=(0.1, 0.1, 0.2, 0.2)), tl, state, tl)
    out = tl.to_annotations()
    assert out.fragments[0].interval == 10
    assert [len(e) for e in out.fragments[0].events] == [0, 1, 0]


def test_initial_choice_is_every_face():
    _, state = start()
    assert state.selected == {1, 2}
    assert state.next_id == 3


def test_merge_renames_and_keeps_hidden_if_either_was():
    tl, state = start()
    tl, state = apply(Select(op="select", ids=[2]), tl, state, tl)
    tl, state = apply(Merge(op="merge", keep=1, drop=2), tl, state, tl)
    assert tl.ids() == {1}
    assert state.selected == {1}
    assert ids_on(tl, 0) == [1] and ids_on(tl, 9) == [1]


def test_merge_of_ids_on_screen_together_keeps_one_box_covering_both():
    tl, state = start()  # 1 and 2 are both on frames 3-5
    tl, state = apply(Merge(op="merge", keep=1, drop=2), tl, state, tl)
    for frame in (3, 4, 5):
        [box] = tl.faces[frame]
        assert box.id == 1 and box.manual
        assert box.x == pytest.approx(0.1 + frame / 100)  # the left one's left edge
        assert box.x + box.width == pytest.approx(0.7)  # the right one's right edge
    written = exported(tl, state)
    for fragment in written.fragments:
        for event in fragment.events:
            ids = [f.id for f in event]
            assert len(ids) == len(set(ids))


def test_merge_on_some_frames_only():
    tl, state = start()
    tl, state = apply(Merge(op="merge", keep=1, drop=2, start=6, end=7), tl, state, tl)
    assert ids_on(tl, 5) == [1, 2] and ids_on(tl, 6) == [1] and ids_on(tl, 8) == [2]
    assert not tl.faces[6][0].manual  # 1 has no box there: 2's box is renamed as it is


def test_no_sequence_of_edits_puts_one_id_twice_on_a_frame():
    rng = random.Random(18)
    for _ in range(30):
        tl, state = start()
        original = tl
        for _ in range(12):
            ids = sorted(tl.ids()) or [1]
            a, b = rng.choice(ids), rng.choice(ids)
            frame = rng.randrange(len(tl))
            edit = rng.choice(
                [
                    Merge(op="merge", keep=a, drop=b),
                    Merge(op="merge", keep=a, drop=b, start=frame, end=min(9, frame + 3)),
                    Split(op="split", id=a, frame=frame),
                    AddBox(op="add", frame=frame, box=(0.4, 0.4, 0.1, 0.1)),
                    Extend(op="extend", id=a, frame=frame),
                    SetBox(op="box", id=a, frame=frame, box=(0.2, 0.2, 0.1, 0.1)),
                ]
            )
            try:
                tl, state = apply(edit, tl, state, original)
            except VeilError:
                continue
            for faces in tl.faces:
                assert len({f.id for f in faces}) == len(faces), edit
        exported(tl, state)


def test_new_ids_are_blurred_even_split_off_a_visible_one():
    tl, state = start()
    tl, state = apply(Select(op="select", ids=[1]), tl, state, tl)  # 2 visible
    tl, state = apply(Split(op="split", id=2, frame=6), tl, state, tl)
    assert state.selected == {1, 3} and state.origin == {3: 2} and state.root(3) == 2


def test_split_gives_a_new_id_from_the_frame_on():
    tl, state = start()
    tl, state = apply(Split(op="split", id=2, frame=6), tl, state, tl)
    assert ids_on(tl, 5) == [1, 2]
    assert ids_on(tl, 6) == [3]
    assert state.selected == {1, 2, 3}
    assert state.next_id == 4
    with pytest.raises(VeilError, match="after its first"):
        apply(Split(op="split", id=1, frame=0), tl, state, tl)


def test_drawn_box_is_interpolated_between_keyframes_and_held_to_its_range():
    tl, state = start()
    tl, state = apply(AddBox(op="add", frame=2, box=(0.1, 0.5, 0.1, 0.1)), tl, state, tl)
    assert state.manual[3].start == state.manual[3].end == 2
    assert 3 in state.selected
    tl, state = apply(SetBox(op="box", id=3, frame=6, box=(0.5, 0.5, 0.2, 0.1)), tl, state, tl)
    tl, state = apply(Extend(op="extend", id=3, frame=8), tl, state, tl)
    boxes = {i: f for i, f in tl.boxes_of(3)}
    assert sorted(boxes) == [2, 3, 4, 5, 6, 7, 8]
    assert boxes[4].x == pytest.approx(0.3) and boxes[4].width == pytest.approx(0.15)
    assert boxes[8].x == pytest.approx(0.5)  # held after the last keyframe
    assert all(f.manual for f in boxes.values())
    assert all(f.confidence is None for f in boxes.values())
    written = parse_annotations(dump_annotations(tl.to_annotations()), "x")
    assert written.face_ids() == {1, 2, 3}
    # trimming and splitting a drawn track keep keyframes consistent
    tl, state = apply(Delete(op="delete", id=3, frame=8), tl, state, tl)
    assert state.manual[3].end == 7
    tl, state = apply(Split(op="split", id=3, frame=5), tl, state, tl)
    assert (state.manual[3].start, state.manual[3].end) == (2, 4)
    assert (state.manual[4].start, state.manual[4].end) == (5, 7)
    assert {i: f.x for i, f in tl.boxes_of(4)}[5] == pytest.approx(boxes[5].x)


def test_moving_a_detected_box_marks_only_that_box():
    tl, state = start()
    tl, state = apply(SetBox(op="box", id=1, frame=2, box=(0.3, 0.3, 0.1, 0.1)), tl, state, tl)
    moved = dict(tl.boxes_of(1))
    assert moved[2].manual and moved[2].x == 0.3 and moved[2].index == 2
    assert not moved[1].manual and moved[1].confidence == 0.9


def test_extend_a_detected_track_holds_its_last_box():
    tl, state = start()
    tl, state = apply(Extend(op="extend", id=1, frame=8), tl, state, tl)
    boxes = dict(tl.boxes_of(1))
    assert sorted(boxes) == list(range(9))
    assert boxes[8].manual and boxes[8].x == pytest.approx(boxes[5].x)


def test_delete_and_reset():
    tl, state = start()
    original = tl
    tl, state = apply(Delete(op="delete", id=2), tl, state, original)
    assert tl.ids() == {1} and state.selected == {1}
    tl, state = apply(Reset(op="reset"), tl, state, original)
    assert tl.ids() == {1, 2} and state.selected == {1, 2}
    assert state.revision == 2


def test_unknown_ids_are_refused():
    tl, state = start()
    with pytest.raises(VeilError, match="no face 9"):
        apply(Select(op="select", ids=[9]), tl, state, tl)
    with pytest.raises(VeilError, match="no face 9"):
        apply(Merge(op="merge", keep=1, drop=9), tl, state, tl)
    with pytest.raises(VeilError, match="not in the video"):
        apply(AddBox(op="add", frame=10, box=(0.1, 0.1, 0.1, 0.1)), tl, state, tl)


def test_state_round_trips_through_json():
    tl, state = start()
    tl, state = apply(AddBox(op="add", frame=2, box=(0.1, 0.5, 0.1, 0.1)), tl, state, tl)
    again = ReviewState.from_json(state.to_json())
    assert again == state


def test_boxes_lying_on_a_face_are_taken_into_it():
    # face 3 is a second box on face 1 on frames 1-2 (most of it inside 1's box)
    events = [[face(i, 1, 0.1), *([face(i, 3, 0.12)] if i in (1, 2) else [])] for i in range(4)]
    events[3].append(face(3, 4, 0.17))  # a neighbour: centre inside, but most of it outside
    tl = timeline_of(events)
    state = ReviewState.initial(tl)
    assert lying_on(tl, 1) == [(1, 3), (2, 3)]
    tl2, state2 = apply(Select(op="select", ids=[3, 4]), tl, state, tl)  # 1 visible
    tl2, state2 = apply(Absorb(op="absorb"), tl2, state2, tl)
    assert ids_on(tl2, 1) == [1] and ids_on(tl2, 3) == [1, 4]
    [box] = tl2.faces[1]
    assert box.manual and box.x == pytest.approx(0.1) and box.width == pytest.approx(0.12)
    assert 3 not in tl2.ids() and state2.selected == {4}
    with pytest.raises(VeilError, match="no box of another face lies on face 4"):
        apply(Absorb(op="absorb", id=4), tl2, state2, tl)
    # undone exactly, as every edit
    chosen_tl, chosen = apply(Select(op="select", ids=[3, 4]), tl, state, tl)
    change = Change.between(chosen_tl, tl2, chosen, state2)
    back_tl, back = change.undo(tl2, state2)
    assert back_tl.faces == chosen_tl.faces and back.choices() == chosen.choices()


def test_a_box_that_slid_half_onto_a_face_lies_on_it_a_neighbour_s_does_not():
    # face 3 overlaps face 1 by IoU 0.25 with its centre outside 1's box: a track that slid
    # onto it; face 4 overlaps by 0.18, a neighbour's face beside it, which stays its own
    events = [
        [face(i, 1, 0.1), face(i, 3 if i < 2 else 4, 0.16 if i < 2 else 0.17)] for i in range(4)
    ]
    tl = timeline_of(events)
    assert lying_on(tl, 1) == [(0, 3), (1, 3)]


def test_a_merge_of_some_frames_takes_the_kept_face_s_choice():
    tl, state = start()
    tl, state = apply(Select(op="select", ids=[2]), tl, state, tl)  # 1 visible, 2 blurred
    merged_tl, merged = apply(Merge(op="merge", keep=1, drop=2, start=3, end=4), tl, state, tl)
    assert merged.selected == {2}  # face 1 stays visible; 2 keeps its other frames, blurred
    assert ids_on(merged_tl, 4) == [1] and ids_on(merged_tl, 5) == [1, 2]
    _, whole = apply(Merge(op="merge", keep=1, drop=2), tl, state, tl)
    assert whole.selected == {1}  # a whole merge: blurred if either was


def test_every_edit_of_the_boxes_has_a_handler_and_undo_is_the_historys():
    from typing import get_args

    from veil.review.edits import _HANDLERS, Edit, Redo, Undo

    union = get_args(get_args(Edit)[0])
    assert set(_HANDLERS) == set(union) - {Undo, Redo}
    tl = Timeline.from_annotations(annotations())
    for edit in (Undo(op="undo"), Redo(op="redo")):
        with pytest.raises(VeilError, match="is not an edit of the boxes"):
            apply(edit, tl, ReviewState.initial(tl), tl)
