"""The footage evaluation's labels and scoring (bench/footage), on tiny data built here."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.footage.build import apply_corrections, interpolate
from bench.footage.labels import LabelFace, Labels, ranges
from bench.footage.score import (
    ClipScore,
    FaceResult,
    aligned,
    annotation_mask,
    coverage,
    from_zero,
    id_figures,
    outside_heads,
    pixel_mask,
    totals,
)


def test_labels_round_trip_through_runs(tmp_path: Path) -> None:
    labels = Labels("a.mp4", "0" * 64, 6, 100, 80)
    labels.boxes = {1: {0: (1, 2, 11, 12), 1: (2, 2, 12, 12), 4: (5, 5, 15, 15)}}
    labels.away = {1: {4}}
    labels.write(tmp_path / "a.json")
    back = Labels.read(tmp_path / "a.json")
    assert back.boxes == labels.boxes
    frames = back.per_frame()
    assert [len(f) for f in frames] == [1, 1, 0, 0, 1, 0]
    assert frames[4][0].away and not frames[0][0].away


def test_ranges_are_inclusive_runs() -> None:
    assert ranges([5, 1, 2, 3, 7, 8]) == [(1, 3), (5, 5), (7, 8)]


def test_interpolation_fills_short_gaps_only() -> None:
    boxes = {0: (0.0, 0.0, 10.0, 10.0), 2: (2.0, 0.0, 12.0, 10.0), 10: (0.0, 0.0, 1.0, 1.0)}
    out = interpolate(boxes, max_gap=3)
    assert out[1] == (1.0, 0.0, 11.0, 10.0)
    assert 5 not in out


def test_corrections_keep_merge_add_and_flag_away() -> None:
    tracks = {
        1: {"boxes": {0: (0, 0, 10, 10), 1: (0, 0, 10, 10)}, "hits": 2, "score": 0.9},
        2: {"boxes": {4: (0, 0, 10, 10)}, "hits": 1, "score": 0.4},
        3: {"boxes": {0: (50, 50, 60, 60)}, "hits": 9, "score": 0.99},
    }
    corrections = {
        "keep": [1, 2],
        "people": {"1": 1, "2": 1},
        "add": [{"person": 2, "keys": [[0, 20, 20, 30, 30], [2, 22, 20, 32, 30]]}],
        "away": [[2, 1, 1]],
    }
    boxes, away = apply_corrections(tracks, corrections)
    assert sorted(boxes[1]) == [0, 1, 2, 3, 4]  # two tracks of one person, gap filled
    assert boxes[2][1] == (21.0, 20.0, 31.0, 30.0)
    assert away == {2: {1}}
    assert all(box[0] < 50 for frames in boxes.values() for box in frames.values())


def test_corrections_give_part_of_a_track_to_another_person() -> None:
    """Two tracks that swap faces where the faces cross are split back by hand."""
    box = (0.0, 0.0, 10.0, 10.0)
    tracks = {1: {"boxes": dict.fromkeys(range(6), box), "hits": 6, "score": 0.9}}
    corrections = {"keep": [1], "people": {"1": 1}, "assign": [[1, 3, 5, 2]], "fill": 0}
    boxes, _ = apply_corrections(tracks, corrections)
    assert sorted(boxes[1]) == [0, 1, 2]
    assert sorted(boxes[2]) == [3, 4, 5]


def test_coverage_is_the_share_of_the_box_under_the_mask() -> None:
    mask = np.zeros((20, 20), bool)
    mask[:, :5] = True
    assert coverage(mask, (0, 0, 10, 10)) == pytest.approx(0.5)
    assert coverage(mask, (30, 30, 40, 40)) == 1.0  # off-frame: nothing to see


def test_a_veil_mask_covers_its_face_box_and_little_beyond_the_head() -> None:
    mask = annotation_mask([(40, 40, 60, 64)], 100, 100)
    assert coverage(mask, (40, 40, 60, 64)) > 0.95
    face = LabelFace(1, (40, 40, 60, 64))
    assert outside_heads(mask, [face]) < 0.05 * mask.sum()
    assert outside_heads(mask, []) == mask.sum()


def test_pixel_mask_fills_a_blurred_region_with_a_flat_inside() -> None:
    original = np.full((60, 60, 3), 120, np.uint8)
    output = original.copy()
    output[20:40, 20:40] = 120  # unchanged inside ...
    output[20:40, 20:22] = output[20:40, 38:40] = 200  # ... but a changed outline
    output[20:22, 20:40] = output[38:40, 20:40] = 200
    mask = pixel_mask(original, output)
    assert coverage(mask, (22, 22, 38, 38)) == 1.0
    assert not mask[:10].any()


def test_a_soft_blur_counts_as_cover_only_for_the_sensitive_mask() -> None:
    original = np.full((60, 60, 3), 120, np.uint8)
    output = original.copy()
    output[20:40, 20:40] = 127  # a blur that changed a flat face by 7 levels
    assert coverage(pixel_mask(original, output), (20, 20, 40, 40)) == 0.0
    assert coverage(pixel_mask(original, output, sensitive=True), (22, 22, 38, 38)) == 1.0


def test_alignment_by_time_tolerates_dropped_and_extra_frames() -> None:
    labels = [(0.0, "a"), (0.1, "b"), (0.2, "c"), (0.3, "d")]
    fewer = [(0.0, 0), (0.2, 2), (0.3, 3)]
    assert [o for _, o in aligned(labels, fewer)] == [0, 0, 2, 3]
    more = [(0.0, 0), (0.05, 1), (0.1, 2), (0.15, 3), (0.2, 4), (0.25, 5), (0.3, 6)]
    assert [o for _, o in aligned(labels, more)] == [0, 2, 4, 6]
    assert [o for _, o in aligned(labels, [])] == [None] * 4


def test_streams_are_aligned_from_their_first_frame() -> None:
    late_start = [(1 / 30, "a"), (2 / 30, "b")]
    from_start = [(0.0, 0), (1 / 30, 1)]
    pairs = aligned(from_zero(late_start), from_zero(from_start))
    assert [o for _, o in pairs] == [0, 1]


def _face(frame: int, covered: float, away: bool = False) -> FaceResult:
    return FaceResult(frame, 1, covered, float("nan"), away)


def test_a_partly_covered_face_leaks_and_runs_are_counted_per_person() -> None:
    faces = [_face(0, 1.0), _face(1, 0.5), _face(2, 0.89), _face(3, 1.0), _face(4, 0.0)]
    faces.append(_face(5, 0.0, away=True))
    score = ClipScore("c", "t", 6, 2.0, faces, masked_outside=10, area=1000)
    assert (score.face_frames, score.leaked, score.worst_run) == (5, 3, 2)
    assert (score.away_frames, score.away_leaked) == (1, 1)
    assert score.over_redaction == pytest.approx(0.01)
    assert score.fps == 3.0
    assert FaceResult(0, 1, 1.0, 0.7, False).leaked  # covered, but still recognisable


def test_ids_on_no_face_and_ids_per_person() -> None:
    face = LabelFace(1, (10, 10, 30, 30))
    truth = [[face], [face], [face]]
    hyps = [
        [(7, (10, 10, 30, 30)), (8, (60, 60, 80, 80))],
        [(7, (11, 10, 31, 30))],
        [(9, face.box)],
    ]
    figures = id_figures(truth, hyps, 100, 100)
    assert figures["ids"] == 3
    assert figures["ids_on_no_face"] == 1  # 8, on the background
    assert figures["ids_on_faces"] == 2  # 7 then 9 on one person
    assert figures["people"] == 1
    assert 0 < figures["idf1"] < 1


def test_an_id_on_a_head_turned_away_is_not_on_no_face_nor_a_persons_id() -> None:
    head = LabelFace(2, (50, 50, 70, 70), away=True)
    figures = id_figures([[head]], [[(5, head.box)]], 100, 100)
    assert (figures["ids_on_no_face"], figures["ids_on_faces"], figures["people"]) == (0, 0, 0)


def test_totals_split_over_redaction_between_clips_with_and_without_faces() -> None:
    empty = ClipScore("empty", "t", 10, 1.0, [], masked_outside=5, area=1000)
    busy = ClipScore("busy", "t", 10, 1.0, [_face(0, 0.0)], masked_outside=100, area=1000)
    t = totals([empty, busy])
    assert t["over_redaction_no_face_clips"] == pytest.approx(0.005)
    assert t["over_redaction_face_clips"] == pytest.approx(0.1)
    assert t["leak_rate"] == 1.0 and t["fps"] == 10.0
