"""Undo and redo: every edit is kept with what it changed, and taken back exactly."""

from __future__ import annotations

import pytest

from review.annotated import CANDIDATE, start
from veil.errors import VeilError
from veil.review.edits import (
    Accept,
    AddBox,
    ChooseBlur,
    Delete,
    Dismiss,
    Extend,
    MarkReviewed,
    Merge,
    NotSame,
    Reset,
    Select,
    SetBox,
    Split,
    apply,
)
from veil.review.history import Change, Entry, HistoryFiles, describe, step
from veil.settings import BlurType

EVERY_EDIT = [
    Select(op="select", ids=[2]),
    ChooseBlur(op="blur", blur=BlurType.HIGH),
    Merge(op="merge", keep=1, drop=2),
    Split(op="split", id=2, frame=6),
    SetBox(op="box", id=1, frame=2, box=(0.3, 0.3, 0.1, 0.1)),
    AddBox(op="add", frame=2, box=(0.1, 0.5, 0.1, 0.1)),
    Extend(op="extend", id=1, frame=8),
    Delete(op="delete", id=2, frame=4),
    Delete(op="delete", id=1),
    Reset(op="reset"),
    MarkReviewed(op="reviewed", start=2, end=6),
    Accept(op="accept", candidate=1),
    Dismiss(op="dismiss", candidate=1),
    NotSame(op="not-same", ids=(2, 1)),
]


def edited():
    """A review with some edits made already (so that reset has something to undo)."""
    tl, state = start(candidates=[CANDIDATE])
    original = tl
    for edit in (Split(op="split", id=1, frame=2), Select(op="select", ids=[2])):
        tl, state = apply(edit, tl, state, original)
    return tl, state, original


@pytest.mark.parametrize("edit", EVERY_EDIT, ids=lambda e: e.op)
def test_every_edit_is_undone_and_redone_exactly(edit, tmp_path):
    tl, state, original = edited()
    after_tl, after = apply(edit, tl, state, original)
    change = Change.between(tl, after_tl, state, after)
    files = HistoryFiles(tmp_path)
    files.save_change(after.revision, change)
    after = after.__class__.from_json({**after.to_json(), "done": [after.revision]})

    back_tl, back, of = step(files, after_tl, after, redo=False)
    assert of == after.revision
    assert back_tl.faces == tl.faces
    assert back.choices() == state.choices()
    assert back.revision == after.revision + 1 and back.undone == (after.revision,)
    assert back.next_id == after.next_id  # IDs are never given twice

    again_tl, again, _ = step(files, back_tl, back, redo=True)
    assert again_tl.faces == after_tl.faces
    assert again.choices() == after.choices()
    assert again.done == (after.revision,) and again.undone == ()
    with pytest.raises(VeilError, match="nothing to redo"):
        step(files, again_tl, again, redo=True)
    assert describe(edit, state, after)[0].isupper()


def test_nothing_to_undo_at_first(tmp_path):
    tl, state = start()
    with pytest.raises(VeilError, match="nothing to undo"):
        step(HistoryFiles(tmp_path), tl, state, redo=False)


def test_a_change_survives_the_disk(tmp_path):
    tl, state, original = edited()
    after_tl, after = apply(Merge(op="merge", keep=1, drop=2), tl, state, original)
    change = Change.between(tl, after_tl, state, after)
    assert {frame for frame, _, _ in change.frames} == set(range(3, 10))  # only what changed
    files = HistoryFiles(tmp_path)
    files.save_change(7, change)
    assert files.change(7) == change


def test_the_log_is_appended_and_read_back_in_order(tmp_path):
    files = HistoryFiles(tmp_path / "review")
    first = Entry(1, "select", "Left face 3 visible", "alice", 1.0, {"ids": [1, 2]})
    second = Entry(1, "download", "Downloaded ids.txt", "Ünïcødé", 2.0, {"name": "ids.txt"})
    files.append(first)
    files.append(second)
    assert files.entries() == [first, second]
    assert (tmp_path / "review" / "history.jsonl").stat().st_mode & 0o077 == 0
    files.clear()
    assert files.entries() == []


def test_summaries_say_what_happened():
    tl, state = start()
    _, after = apply(Select(op="select", ids=[1]), tl, state, tl)
    assert describe(Select(op="select", ids=[1]), state, after) == "Left face 2 visible"
    _, split = apply(Split(op="split", id=2, frame=6), tl, state, tl)
    text = describe(Split(op="split", id=2, frame=6), state, split)
    assert text == "Split face 2 at frame 7: from there on it is face 3"
