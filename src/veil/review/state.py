"""Everything about a review besides the boxes: :class:`ReviewState`.

Which IDs are hidden, the blur type, the tracks a person drew, the frames
marked reviewed, the candidates accepted or dismissed, the edit history's
revisions and the redactions made; saved as ``state.json`` beside the edited
annotations (:mod:`veil.review.reviews`). The edits that change it are
:mod:`veil.review.edits`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from veil.review.timeline import ManualTrack, Timeline
from veil.settings import BlurType

Span = tuple[int, int]  # first and last frame, inclusive


def add_span(spans: tuple[Span, ...], span: Span, on: bool) -> tuple[Span, ...]:
    """``spans`` with the frames of ``span`` added (``on``) or taken out; sorted, merged."""
    first, last = span
    frames: list[Span] = []
    for a, b in spans:  # keep what lies outside the span
        if b < first or a > last:
            frames.append((a, b))
            continue
        if a < first:
            frames.append((a, first - 1))
        if b > last:
            frames.append((last + 1, b))
    if on:
        frames.append((first, last))
    merged: list[Span] = []
    for a, b in sorted(frames):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return tuple(merged)


@dataclass(frozen=True)
class ReviewState:
    """Everything about a review besides the boxes.

    Attributes:
        selected: the face IDs to hide (the ID list); every ID at first, as Azure.
        blur: the blur type for previews and the redaction.
        manual: tracks a person drew, by ID: their keyframes and range.
        next_id: the ID the next new track (drawn, split off, accepted) gets; never reused.
        reviewed: frame spans a person marked as reviewed.
        accepted: candidates (face-like regions below the threshold) a person accepted,
            each with the face ID it became.
        dismissed: candidates a person dismissed.
        not_same: merge suggestions a person dismissed (two face IDs, smaller first).
        origin: each ID split off another, with the ID it came from (it shares its
            confidence).
        revision: counts the edits, undo and redo included.
        done: the revisions of the edits in effect, oldest first (what undo takes back).
        undone: the revisions of the edits undone, last undone last (what redo brings back).
        redactions: each redaction started from this review: job, IDs, blur, who, when.
        updated_by, updated_at: the last edit's token name and time.
    """

    selected: frozenset[int]
    blur: BlurType = BlurType.MED
    manual: dict[int, ManualTrack] = field(default_factory=dict)
    next_id: int = 1
    reviewed: tuple[Span, ...] = ()
    accepted: dict[int, int] = field(default_factory=dict)
    dismissed: frozenset[int] = frozenset()
    not_same: frozenset[tuple[int, int]] = frozenset()
    origin: dict[int, int] = field(default_factory=dict)
    revision: int = 0
    done: tuple[int, ...] = ()
    undone: tuple[int, ...] = ()
    redactions: tuple[dict[str, Any], ...] = ()
    updated_by: str | None = None
    updated_at: float | None = None

    @classmethod
    def initial(cls, timeline: Timeline) -> ReviewState:
        ids = timeline.ids()
        return cls(selected=ids, next_id=max(ids, default=0) + 1)

    def choices(self) -> dict[str, Any]:
        """What an edit may change besides the boxes, as JSON: what undo restores."""
        return {
            "selected": sorted(self.selected),
            "blur": self.blur.value,
            "manual": [t.to_json() for _, t in sorted(self.manual.items())],
            "reviewed": [list(s) for s in self.reviewed],
            "accepted": [[c, i] for c, i in sorted(self.accepted.items())],
            "dismissed": sorted(self.dismissed),
            "not_same": [list(p) for p in sorted(self.not_same)],
            "origin": [[i, o] for i, o in sorted(self.origin.items())],
        }

    def with_choices(self, data: dict[str, Any]) -> ReviewState:
        tracks = [ManualTrack.from_json(t) for t in data.get("manual", [])]
        return replace(
            self,
            selected=frozenset(int(i) for i in data.get("selected", [])),
            blur=BlurType(data.get("blur", BlurType.MED.value)),
            manual={t.face_id: t for t in tracks},
            reviewed=tuple((int(a), int(b)) for a, b in data.get("reviewed", [])),
            accepted={int(c): int(i) for c, i in data.get("accepted", [])},
            dismissed=frozenset(int(c) for c in data.get("dismissed", [])),
            not_same=frozenset((int(a), int(b)) for a, b in data.get("not_same", [])),
            origin={int(i): int(o) for i, o in data.get("origin", [])},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            **self.choices(),
            "next_id": self.next_id,
            "revision": self.revision,
            "done": list(self.done),
            "undone": list(self.undone),
            "redactions": list(self.redactions),
            "updated_by": self.updated_by,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReviewState:
        state = cls(
            selected=frozenset(),
            next_id=int(data.get("next_id", 1)),
            revision=int(data.get("revision", 0)),
            done=tuple(int(r) for r in data.get("done", [])),
            undone=tuple(int(r) for r in data.get("undone", [])),
            redactions=tuple(data.get("redactions", [])),
            updated_by=data.get("updated_by"),
            updated_at=data.get("updated_at"),
        )
        return state.with_choices(data)

    def root(self, face_id: int) -> int:
        """The ID the analysis gave the boxes of ``face_id`` (before any split)."""
        seen = set()
        while face_id in self.origin and face_id not in seen:
            seen.add(face_id)
            face_id = self.origin[face_id]
        return face_id
