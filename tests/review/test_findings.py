"""What is left to review: unreviewed frames, covered faces, jumps, open candidates, warnings."""

from __future__ import annotations

from review.annotated import CANDIDATE, face, start, timeline_of
from veil.redact import RedactionConfig, mask_extent
from veil.review.edits import (
    Accept,
    Dismiss,
    MarkReviewed,
    Merge,
    NotSame,
    Select,
    Split,
    apply,
    exported,
)
from veil.review.findings import covered, jumps, open_candidates, unreviewed, warnings
from veil.review.state import ReviewState
from veil.review.timeline import Timeline


def test_unreviewed_spans_are_what_nobody_marked():
    tl, state = start()
    assert unreviewed(tl, state.reviewed) == [(0, 9)]
    tl, state = apply(MarkReviewed(op="reviewed", start=2, end=4), tl, state, tl)
    tl, state = apply(MarkReviewed(op="reviewed", start=5, end=6), tl, state, tl)
    assert state.reviewed == ((2, 6),)
    assert unreviewed(tl, state.reviewed) == [(0, 1), (7, 9)]
    tl, state = apply(MarkReviewed(op="reviewed", start=4, end=4, reviewed=False), tl, state, tl)
    assert unreviewed(tl, state.reviewed) == [(0, 1), (4, 4), (7, 9)]
    tl, state = apply(MarkReviewed(op="reviewed", start=0, end=9), tl, state, tl)
    assert unreviewed(tl, state.reviewed) == []


def two_people_passing() -> Timeline:
    """Face 1 walks right across face 2 (which stands still) over frames 0-9."""
    events = [[face(i, 1, 0.1 + 0.06 * i), face(i, 2, 0.5)] for i in range(10)]
    return timeline_of(events)


def test_a_visible_face_under_a_blurred_mask_is_found_by_span():
    tl = two_people_passing()
    [hit] = covered(tl, frozenset({1}))  # 2 left visible, 1 blurred
    assert (hit.face_id, hit.by) == (2, 1)
    # the mask is the box grown 1.3 times: it takes 10 % of 2 or more on frames 5-8
    assert (hit.start, hit.end) == (5, 8) and hit.share > 0.9
    assert covered(tl, frozenset({1, 2})) == []  # nothing visible, nothing covered
    assert covered(tl, frozenset()) == []


def test_jumps_are_where_an_id_passes_to_someone_else():
    events = [[face(i, 1, 0.1 if i < 6 else 0.7)] for i in range(10)]
    tl = timeline_of(events)
    assert jumps(tl) == {1: [6]}
    assert jumps(two_people_passing()) == {}  # 0.06 of the frame a frame is walking


def test_candidates_are_open_until_accepted_or_dismissed():
    tl, state = start(candidates=[CANDIDATE])
    [found] = open_candidates(tl, state)
    assert found.frames == [2, 3, 4] and found.unboxed == [2, 3, 4]
    assert found.confidence == 0.12
    accepted_tl, accepted = apply(Accept(op="accept", candidate=1), tl, state, tl)
    assert open_candidates(accepted_tl, accepted) == []
    assert accepted.accepted == {1: 3} and 3 in accepted.selected  # blurred
    assert [f.id for f in accepted_tl.faces[3]] == [1, 2, 3]
    assert exported(accepted_tl, accepted).candidates is None
    _, dismissed = apply(Dismiss(op="dismiss", candidate=1), tl, state, tl)
    assert open_candidates(tl, dismissed) == [] and dismissed.dismissed == {1}
    assert exported(tl, dismissed).candidates is None
    assert exported(tl, state).candidates[0].id == 1  # still open: still written


def test_a_candidate_only_partly_under_a_face_s_mask_is_pointed_at():
    # face 2 (x 0.6-0.7) is on frames 3-9; the candidate lies inside its box on
    # frame 3 and across its right edge on frame 4: more than half of it is
    # under the box, more than a tenth of it outside the grown mask: partly shown
    right = mask_extent(0.6, 0.2, 0.7, 0.4, RedactionConfig())[2]
    assert (0.7 - 0.64) / 0.1 >= 0.5 and (right - 0.64) / 0.1 < 0.9
    boxes = [
        {"index": 3, "start": 30, "x": 0.63, "y": 0.25, "width": 0.05, "height": 0.08},
        {"index": 4, "start": 40, "x": 0.64, "y": 0.25, "width": 0.1, "height": 0.08},
    ]
    candidate = {"id": 1, "boxes": [b | {"confidence": 0.12} for b in boxes]}
    tl, state = start(candidates=[candidate])
    [found] = open_candidates(tl, state)
    assert found.frames == [3, 4] and found.unboxed == [4]
    assert "partly" in next(w for w in warnings(tl, state) if w.code == "candidates").text


def test_an_export_warns_of_what_is_open():
    tl, state = start(candidates=[CANDIDATE])
    codes = [w.code for w in warnings(tl, state)]
    assert codes == ["unreviewed", "candidates"]
    tl, state = apply(Select(op="select", ids=[]), tl, state, tl)
    tl, state = apply(MarkReviewed(op="reviewed", start=0, end=9), tl, state, tl)
    tl, state = apply(Dismiss(op="dismiss", candidate=1), tl, state, tl)
    [nothing] = warnings(tl, state)
    assert nothing.code == "nothing-blurred" and "every face visible" in nothing.text


def test_confidence_and_suggestions_follow_the_edits():
    extras = {
        "ids": [
            {"id": 1, "confidence": 0.9},
            {"id": 2, "confidence": 0.2, "lowConfidence": True},
        ],
        "mergeSuggestions": [{"ids": [1, 2], "score": 0.7}],
    }
    tl, state = start(**extras)
    split_tl, split = apply(Split(op="split", id=2, frame=7), tl, state, tl)
    written = exported(split_tl, split)
    assert [(i.id, i.lowConfidence) for i in written.ids] == [(1, False), (2, True), (3, True)]
    assert written.mergeSuggestions[0].ids == (1, 2)
    _, no = apply(NotSame(op="not-same", ids=(2, 1)), tl, state, tl)
    assert exported(tl, no).mergeSuggestions is None
    merged_tl, merged = apply(Merge(op="merge", keep=1, drop=2), tl, state, tl)
    merged_out = exported(merged_tl, merged)
    assert merged_out.mergeSuggestions is None and [i.id for i in merged_out.ids] == [1]
    assert ReviewState.from_json(merged.to_json()) == merged
