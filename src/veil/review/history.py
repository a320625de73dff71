"""A review's history: every edit, undo and redo, redaction and download, by whom, when.

Each edit is kept with what it changed (:class:`Change`: the frames it touched,
before and after, and the review's choices before and after), so undo and redo
restore exactly what was there, however the review got there; the history is
linear, and a new edit drops what was undone. :class:`Entry` is one line of
the log a person reads (and the job's audit trail receives); nothing in it is
ever rewritten.

:class:`HistoryFiles` keeps both in the review's folder: ``history.jsonl``
(one entry a line, appended) and ``changes/<revision>.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from veil.annotations import Face
from veil.atomic import write_atomic
from veil.errors import VeilError
from veil.review.edits import (
    Absorb,
    Accept,
    AddBox,
    BaseEdit,
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
)
from veil.review.state import ReviewState
from veil.review.timeline import Timeline

FrameFaces = tuple[Face, ...]


@dataclass(frozen=True)
class Change:
    """What one edit changed: the frames it touched and the choices, before and after."""

    frames: tuple[tuple[int, FrameFaces, FrameFaces], ...]  # frame, before, after
    before: dict[str, Any]
    after: dict[str, Any]

    @classmethod
    def between(
        cls, old: Timeline, new: Timeline, old_state: ReviewState, new_state: ReviewState
    ) -> Change:
        frames = tuple(
            (i, a, b) for i, (a, b) in enumerate(zip(old.faces, new.faces, strict=True)) if a != b
        )
        return cls(frames, old_state.choices(), new_state.choices())

    def undo(self, timeline: Timeline, state: ReviewState) -> tuple[Timeline, ReviewState]:
        return self._put(timeline, state, before=True)

    def redo(self, timeline: Timeline, state: ReviewState) -> tuple[Timeline, ReviewState]:
        return self._put(timeline, state, before=False)

    def _put(
        self, timeline: Timeline, state: ReviewState, before: bool
    ) -> tuple[Timeline, ReviewState]:
        faces = list(timeline.faces)
        for frame, old, new in self.frames:
            faces[frame] = old if before else new
        return timeline.with_faces(faces), state.with_choices(self.before if before else self.after)

    def to_json(self) -> dict[str, Any]:
        def dump(faces: FrameFaces) -> list[dict[str, Any]]:
            return [f.model_dump(exclude_none=True) for f in faces]

        return {
            "frames": [[i, dump(a), dump(b)] for i, a, b in self.frames],
            "before": self.before,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        def load(faces: list[dict[str, Any]]) -> FrameFaces:
            return tuple(Face.model_validate(f) for f in faces)

        frames = tuple((int(i), load(a), load(b)) for i, a, b in data["frames"])
        return cls(frames, data["before"], data["after"])


@dataclass(frozen=True)
class Entry:
    """One line of a review's history.

    Attributes:
        revision: the review's revision after it (redactions and downloads change
            nothing and carry the revision they saw).
        action: the edit's ``op``, or ``undo``, ``redo``, ``redact``, ``download``.
        summary: what happened, in words (frames counted from 1, as the app shows them).
        by: the token's name.
        at: seconds since the epoch.
        detail: the edit as sent; for undo and redo ``{"of": revision}``; for a
            redaction its job and IDs; for a download the file.
    """

    revision: int
    action: str
    summary: str
    by: str
    at: float
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(**data)


# the actions that are not edits (they change nothing undo could take back)
NOT_EDITS = frozenset({"undo", "redo", "redact", "download"})


def edit_summaries(entries: Iterable[Entry]) -> dict[int, str]:
    """Each edit's summary by the revision it made (what undo and redo are labelled with)."""
    return {e.revision: e.summary for e in entries if e.action not in NOT_EDITS}


def _faces(ids: Iterable[int]) -> str:
    ids = sorted(ids)
    return f"face {ids[0]}" if len(ids) == 1 else "faces " + ", ".join(map(str, ids))


def describe(edit: BaseEdit, before: ReviewState, after: ReviewState) -> str:
    """The edit in words, as the history shows it."""
    if isinstance(edit, Select):
        hidden, shown = after.selected - before.selected, before.selected - after.selected
        parts = []
        if hidden:
            parts.append(f"blurred {_faces(hidden)}")
        if shown:
            parts.append(f"left {_faces(shown)} visible")
        return ("; ".join(parts) or "chose the same faces again").capitalize()
    if isinstance(edit, ChooseBlur):
        return f'Blur type "{edit.blur.value}"'
    if isinstance(edit, Merge):
        where = ""
        if edit.start is not None or edit.end is not None:
            first = (edit.start or 0) + 1
            where = f" on frames {first}–{edit.end + 1}" if edit.end is not None else ""
        return f"Merged face {edit.drop} into face {edit.keep}{where}"
    if isinstance(edit, Split):
        return (
            f"Split face {edit.id} at frame {edit.frame + 1}: "
            f"from there on it is face {after.next_id - 1}"
        )
    if isinstance(edit, SetBox):
        return f"Set the box of face {edit.id} on frame {edit.frame + 1}"
    if isinstance(edit, AddBox):
        return f"Drew face {after.next_id - 1} on frame {edit.frame + 1}"
    if isinstance(edit, Extend):
        return f"Extended face {edit.id} to frame {edit.frame + 1}"
    if isinstance(edit, Delete):
        if edit.frame is None:
            return f"Deleted face {edit.id}"
        return f"Deleted the box of face {edit.id} on frame {edit.frame + 1}"
    if isinstance(edit, Absorb):
        if edit.id is None:
            return "Took the boxes lying on the faces left visible into them"
        return f"Took the boxes lying on face {edit.id} into it"
    if isinstance(edit, Reset):
        return "Went back to the analysis (every edit undone)"
    if isinstance(edit, MarkReviewed):
        state = "reviewed" if edit.reviewed else "not reviewed"
        return f"Marked frames {edit.start + 1}–{edit.end + 1} {state}"
    if isinstance(edit, Accept):
        return (
            f"Accepted candidate {edit.candidate}: blurred as face {after.accepted[edit.candidate]}"
        )
    if isinstance(edit, Dismiss):
        return f"Dismissed candidate {edit.candidate} (not a face)"
    if isinstance(edit, NotSame):
        a, b = sorted(edit.ids)
        return f"Faces {a} and {b} are not one person (suggestion dismissed)"
    return edit.model_dump_json()


@dataclass(frozen=True)
class HistoryFiles:
    """A review's history on disk, in its folder."""

    folder: Path

    @property
    def log(self) -> Path:
        return self.folder / "history.jsonl"

    def entries(self) -> list[Entry]:
        if not self.log.is_file():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [Entry.from_json(json.loads(line)) for line in lines if line.strip()]

    def append(self, entry: Entry) -> None:
        """Add one line, flushed to disk before returning (the log is never rewritten)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry.to_json(), ensure_ascii=False) + "\n"
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _change_path(self, revision: int) -> Path:
        return self.folder / "changes" / f"{revision}.json"

    def save_change(self, revision: int, change: Change) -> None:
        write_atomic(self._change_path(revision), json.dumps(change.to_json()).encode())

    def change(self, revision: int) -> Change:
        return Change.from_json(json.loads(self._change_path(revision).read_text()))

    def clear(self) -> None:
        """Forget the history (the analysis was run again and the review starts over)."""
        for path in (self.folder / "changes").glob("*.json"):
            path.unlink()
        self.log.unlink(missing_ok=True)


def step(
    files: HistoryFiles, timeline: Timeline, state: ReviewState, redo: bool
) -> tuple[Timeline, ReviewState, int]:
    """Undo the last edit in effect (or redo the last undone): the review after it, and
    the revision of the edit taken back or brought back.
    """
    stack = state.undone if redo else state.done
    if not stack:
        raise VeilError("nothing to redo" if redo else "nothing to undo")
    revision = stack[-1]
    change = files.change(revision)
    if redo:
        timeline, state = change.redo(timeline, state)
        state = replace(state, done=(*state.done, revision), undone=state.undone[:-1])
    else:
        timeline, state = change.undo(timeline, state)
        state = replace(state, done=state.done[:-1], undone=(*state.undone, revision))
    return timeline, replace(state, revision=state.revision + 1), revision
