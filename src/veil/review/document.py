"""The review document: everything the app shows of a review, as one JSON object.

The video's frames and boxes, each face ID with its pictures along the
timeline, confidence and jumps, what is left to look at (unreviewed spans,
covered faces, open candidates, merge suggestions), the history's undo and
redo, the export's warnings, and the signed links the page loads files by.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from veil.names import is_image_name
from veil.review import findings, strips
from veil.review.history import Entry, edit_summaries
from veil.review.reviews import Review
from veil.review.service_port import JobPublic, Policy, hides_at_least
from veil.review.timeline import candidate_boxes, lying_on, summaries
from veil.settings import BlurType

HISTORY_SHOWN = 200  # the newest entries in the document; GET .../history has them all

Sign = Callable[[str], str]  # a file name of the job -> its signed link


def _entry(entry: Entry) -> dict[str, Any]:
    return {
        "revision": entry.revision,
        "action": entry.action,
        "summary": entry.summary,
        "by": entry.by,
        "at": entry.at,
    }


def _history(review: Review) -> dict[str, Any]:
    entries = review.history.entries()
    summary = edit_summaries(entries)
    state = review.state
    return {
        "undo": summary.get(state.done[-1], "") if state.done else None,
        "redo": summary.get(state.undone[-1], "") if state.undone else None,
        "entries": [_entry(e) for e in reversed(entries[-HISTORY_SHOWN:])],
        "count": len(entries),
    }


def _faces(review: Review, sign: Sign) -> list[dict[str, Any]]:
    tl, state, a = review.timeline, review.state, review.timeline.template
    tracks = tl.tracks()
    info = {i.id: i for i in a.ids or ()}
    jumps = findings.jumps(tl)
    faces = []
    for s in summaries(tl, state.manual):
        boxes = tracks[s.face_id]
        tiles = strips.plan(boxes, len(tl))
        middle = boxes[len(boxes) // 2 : len(boxes) // 2 + 1]
        about = info.get(state.root(s.face_id))
        faces.append(
            {
                "id": s.face_id,
                "first": s.first,
                "last": s.last,
                "frames": s.frames,
                "start": round(review.seconds(s.first), 4),
                "end": round(review.seconds(s.last), 4),
                "size": round(s.size, 6),
                "manual": s.manual,
                "edited": s.edited,
                "selected": s.face_id in state.selected,
                "confidence": about.confidence if about else None,
                "low": bool(about and about.lowConfidence),
                "origin": state.origin.get(s.face_id),
                "jumps": jumps.get(s.face_id, []),
                # frames where another ID's box lies on this face: for a face left visible
                "lying": len(lying_on(tl, s.face_id)) if s.face_id not in state.selected else 0,
                # named by the middle box, which the picture is cut from once the boxes change
                "thumb": sign(f"thumbs/{s.face_id}.jpg") + f"&v={strips.version(middle)}",
                "strip": {
                    "link": sign(f"strips/{s.face_id}.jpg") + f"&v={strips.version(tiles)}",
                    "frames": [i for i, _ in tiles],
                    "tile": strips.TILE,
                },
            }
        )
    return faces


def _candidates(review: Review) -> list[dict[str, Any]]:
    tl = review.timeline
    by_id = {c.id: c for c in tl.template.candidates or ()}
    found = []
    for c in findings.open_candidates(tl, review.state):
        boxes = [
            [frame, *rect]
            for frame, rect in sorted(candidate_boxes(tl, by_id[c.candidate]).items())
        ]
        found.append(
            {
                "id": c.candidate,
                "first": c.frames[0] if c.frames else None,
                "last": c.frames[-1] if c.frames else None,
                "unboxed": c.unboxed,
                "confidence": round(c.confidence, 3),
                "boxes": boxes,
            }
        )
    return found


def _suggestions(review: Review) -> list[dict[str, Any]]:
    tl, state = review.timeline, review.state
    present = tl.ids()
    out = []
    for s in tl.template.mergeSuggestions or ():
        a, b = sorted(s.ids)
        if a in present and b in present and (a, b) not in state.not_same:
            out.append({"ids": [a, b], "score": s.score})
    return sorted(out, key=lambda s: -s["score"])


def review_document(
    review: Review, sign: Sign, playable: bool, policy: Policy | None = None
) -> dict[str, Any]:
    """Everything the app shows: the video's frames and faces, the choices, the links,
    and what the service's policy asks of a redaction.
    """
    policy = policy or Policy()
    tl, state, job = review.timeline, review.state, review.job
    a = tl.template
    kind = "image" if len(tl) == 1 and is_image_name(job.source_name) else "video"
    return {
        "job": JobPublic.from_job(job).model_dump(),
        "media": {
            "kind": kind,
            "playable": playable,
            "width": a.width,
            "height": a.height,
            "timescale": a.timescale,
            "offset": a.offset,
            "framerate": a.framerate,
            "starts": list(tl.starts),
            "durations": list(tl.durations),
        },
        "frames": [
            [[f.id, f.x, f.y, f.width, f.height, 1 if f.manual else 0] for f in frame]
            for frame in tl.faces
        ],
        "faces": _faces(review, sign),
        "manual": [
            {"id": t.face_id, "start": t.start, "end": t.end, "keys": [f for f, _ in t.keys]}
            for _, t in sorted(state.manual.items())
        ],
        "selected": sorted(state.selected),
        "blur": state.blur.value,
        "blurs": [b.value for b in BlurType],
        "revision": state.revision,
        "updated_by": state.updated_by,
        "redactions": list(state.redactions),
        "reviewed": [list(s) for s in state.reviewed],
        "unreviewed": [list(s) for s in findings.unreviewed(tl, state.reviewed)],
        "covered": [
            {"face": c.face_id, "by": c.by, "start": c.start, "end": c.end, "share": c.share}
            for c in findings.covered(tl, state.selected)
        ],
        "candidates": _candidates(review),
        "suggestions": _suggestions(review),
        "history": _history(review),
        "warnings": [{"code": w.code, "text": w.text} for w in findings.warnings(tl, state)],
        "policy": {
            "require_reviewed": policy.require_review,
            "min_blur": policy.min_blur.value,
            # box only outlines faces (a _review video, never published): always allowed
            "refused_blurs": [
                b.value
                for b in BlurType
                if b != BlurType.BOX and not hides_at_least(b, policy.min_blur)
            ],
        },
        "links": {
            "source": sign("source") if playable else None,
            "annotations": sign("annotations.json"),
            "ids": sign("ids.txt"),
            # frames/<n>.jpg under this link: the source's frames, for what a browser cannot play
            "frames": sign("frames") if playable else None,
        },
    }
