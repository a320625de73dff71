"""The parts of segment-parallel redaction on their own: plan, stitch, media, executors."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from distributed.helpers import FRAMES, GOP, Clip
from helpers import decode_frames, frame_pts
from veil.distributed import (
    InlineExecutor,
    LocalExecutor,
    Segment,
    Task,
    overlap_frames,
    plan_segments,
    stitch,
)
from veil.distributed.tasks import SegmentFaces
from veil.errors import VeilError
from veil.media import EncoderSettings, probe
from veil.media.segments import FrameIndex, SegmentWriter, index_frames, join_segments, read_range
from veil.track import TrackerConfig, appearance


def _index(frames: int, keyframes: list[int], fps: int = 25) -> FrameIndex:
    return FrameIndex(tuple(range(frames)), tuple(keyframes), Fraction(1, fps))


@pytest.mark.parametrize(
    ("frames", "keyframes", "seconds", "overlap", "cuts"),
    [
        # a cut at the first keyframe at least `seconds` after the previous cut
        (150, [0, 25, 50, 75, 100, 125], 1.0, 10, [0, 25, 50, 75, 100, 125]),
        (150, [0, 25, 50, 75, 100, 125], 1.5, 10, [0, 50, 100]),
        # no segment shorter than the overlap: short ones merge
        (150, [0, 25, 50, 75, 100, 125], 1.0, 31, [0, 50, 100]),
        (150, [0, 25, 50, 75, 100, 140], 1.0, 31, [0, 50, 100]),
        # one GOP: one segment
        (150, [0], 1.0, 31, [0]),
        (10, [0, 5], 0.1, 31, [0]),
        # keyframes at irregular places
        (300, [0, 7, 61, 62, 200, 250], 2.0, 31, [0, 61, 200, 250]),
    ],
)
def test_plan_cuts_at_keyframes(frames, keyframes, seconds, overlap, cuts):
    segments = plan_segments(_index(frames, keyframes), seconds, overlap)
    assert [s.start for s in segments] == cuts
    assert [s.stop for s in segments] == [*cuts[1:], frames]
    for s in segments:
        assert s.window_start == max(0, s.start - overlap)
        assert s.window_stop == min(frames, s.stop + overlap)
        assert s.frames >= min(overlap, frames)


@pytest.mark.parametrize(
    ("config", "stride", "expected"),
    [
        (TrackerConfig(), 1, 26),
        (TrackerConfig(max_gap=5, pad_frames=10), 1, 11),
        (TrackerConfig(), 3, 28),
    ],
)
def test_overlap_is_the_tracker_lookahead(config, stride, expected):
    assert overlap_frames(config, stride) == expected


def _view(
    number: int,
    start: int,
    stop: int,
    window: tuple[int, int],
    rows: list[tuple[int, int, tuple[float, float, float, float], int]],
    reliable_until: int | None = None,
) -> SegmentFaces:
    """rows: (frame, local track, box, column or -1 for an interpolated box)."""
    return SegmentFaces(
        segment=Segment(number, start, stop, *window),
        frame=np.array([r[0] for r in rows], np.int64),
        track=np.array([r[1] for r in rows], np.int64),
        xyxy=np.array([r[2] for r in rows], np.float32).reshape(-1, 4),
        detected=np.array([r[3] >= 0 for r in rows], bool),
        score=np.array([0.9 if r[3] >= 0 else 0.0 for r in rows], np.float32),
        column=np.array([r[3] for r in rows], np.int64),
        looks=np.full((len(rows), appearance.SIZE), np.nan, np.float32),
        reliable_until=window[1] if reliable_until is None else reliable_until,
        damaged_frames=(),
        seconds=0.0,
    )


def _moving(track: int, frames: range, x: float, column: int = 0, step: float = 2.0):
    return [(f, track, (x + step * f, 10.0, x + step * f + 40, 60.0), column) for f in frames]


def test_stitch_joins_tracks_that_share_detections_and_numbers_them_by_birth():
    # face A crosses the seam at frame 10; face B is born in segment 1's own frames
    # but is first seen (column 0) by segment 0's look-ahead
    a0 = _view(
        0, 0, 10, (0, 14), [*_moving(7, range(0, 14), 0.0), *_moving(3, range(12, 14), 200, 1)]
    )
    a1 = _view(
        1,
        10,
        20,
        (6, 20),
        [*_moving(1, range(6, 20), 0.0), *_moving(2, range(12, 20), 200, column=1)],
    )
    faces = stitch([a1, a0], 20)
    ids = [{f.track_id for f in frame} for frame in faces]
    assert ids[:12] == [{1}] * 12
    assert ids[12:] == [{1, 2}] * 8
    # boxes are the detections, whichever segment owns the frame
    assert faces[15][0].xyxy == pytest.approx((30.0, 10.0, 70.0, 60.0))


def test_stitch_keeps_the_box_covering_both_views_where_they_disagree():
    near = [(f, 1, (100.0, 100.0, 140.0, 150.0), 0) for f in range(0, 8)]
    ours = _view(0, 0, 5, (0, 8), near)
    # the neighbour interpolated frame 4 differently; its frame 3 has no face at all
    theirs_rows = [(f, 5, (100.0, 100.0, 140.0, 150.0), 0) for f in (0, 1, 2, 5, 6, 7, 8)]
    theirs_rows.append((4, 5, (96.0, 104.0, 138.0, 156.0), -1))
    theirs = _view(1, 5, 9, (0, 9), theirs_rows)
    faces = stitch([ours, theirs], 9)
    assert [len(frame) for frame in faces] == [1] * 9
    assert faces[4][0].xyxy == pytest.approx((96.0, 100.0, 140.0, 156.0))
    assert faces[3][0].xyxy == pytest.approx((100.0, 100.0, 140.0, 150.0))
    assert {f.track_id for frame in faces for f in frame} == {1}


def test_stitch_pairs_faces_across_a_seam_as_the_tracker_does():
    # two faces close together: the closest pair first (A with B1) would leave
    # A2 and B2 unpaired (IoU 0.25); the tracker's assignment pairs both
    def rows(track: int, x0: float, x1: float) -> list:
        return [(f, track, (x0, 0.0, x1, 100.0), track % 2) for f in range(0, 9)]

    ours = _view(0, 0, 5, (0, 9), [*rows(1, 0, 100), *rows(2, 30, 130)])
    theirs = _view(1, 5, 9, (0, 9), [*rows(5, 5, 105), *rows(6, -30, 70)])
    faces = stitch([ours, theirs], 9)
    assert {f.track_id for frame in faces for f in frame} == {1, 2}


def test_stitch_ignores_a_view_past_its_reliable_frames():
    # an early-closed track, padded where segment 1 knows better
    ours_rows = [*_moving(1, range(0, 7), 0.0), (7, 1, (0.0, 0.0, 500.0, 500.0), -1)]
    ours = _view(0, 0, 5, (0, 9), ours_rows, reliable_until=5)
    theirs = _view(1, 5, 9, (0, 9), _moving(4, range(0, 9), 0.0))
    faces = stitch([ours, theirs], 9)
    assert faces[7][0].xyxy == pytest.approx((14.0, 10.0, 54.0, 60.0))


def test_index_and_read_a_range_from_a_keyframe(seam_clip: Clip):
    info = probe(seam_clip.path)
    index = index_frames(seam_clip.path, info)
    assert len(index) == FRAMES
    assert index.keyframes == tuple(range(0, FRAMES, GOP))
    assert [float(index.time(i)) for i in range(FRAMES)] == pytest.approx(frame_pts(seam_clip.path))
    whole = decode_frames(seam_clip.path)
    start, stop = 40, 77  # decoded from the keyframe at 25
    seek = index.pts[index.keyframe_at_or_before(start)]
    pictures = list(read_range(seam_clip.path, start, index.pts[start:stop], seek))
    assert [p.index for p in pictures] == list(range(start, stop))
    assert [p.time for p in pictures] == [index.time(i) for i in range(start, stop)]
    for picture in pictures:
        assert np.array_equal(picture.rgb(), whole[picture.index])


def test_parts_join_into_one_video_with_the_source_audio(seam_clip: Clip, tmp_path: Path):
    info = probe(seam_clip.path)
    index = index_frames(seam_clip.path, info)
    parts = []
    for number, (start, stop) in enumerate([(0, 50), (50, 75), (75, 150)]):
        part = tmp_path / f"part{number}.mp4"
        seek = index.pts[index.keyframe_at_or_before(start)]
        with SegmentWriter(part, info, EncoderSettings()) as writer:
            for picture in read_range(seam_clip.path, start, index.pts[start:stop], seek):
                writer.write(picture)
        parts.append(part)
    out = tmp_path / "joined.mp4"
    assert join_segments(seam_clip.path, parts, out, info) == FRAMES
    assert frame_pts(out) == pytest.approx(frame_pts(seam_clip.path), abs=1e-9)
    with av.open(str(out)) as joined, av.open(str(seam_clip.path)) as source:
        assert joined.streams.audio[0].frames == source.streams.audio[0].frames
        packets = [p for p in joined.demux(joined.streams.video[0]) if p.size]
        # every part starts with a keyframe, so the joined video plays from each seam
        keyframes = {i for i, p in enumerate(packets) if p.is_keyframe}
        assert {0, 50, 75} <= keyframes
    before, after = decode_frames(seam_clip.path), decode_frames(out)
    assert (
        max(
            np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(before, after, strict=True)
        )
        < 3
    )


def test_parts_encoded_differently_are_refused(seam_clip: Clip, tmp_path: Path):
    info = probe(seam_clip.path)
    index = index_frames(seam_clip.path, info)
    parts = []
    for number, settings in enumerate([EncoderSettings(), EncoderSettings(pixel_format="yuv444p")]):
        part = tmp_path / f"part{number}.mp4"
        start, stop = 50 * number, 50 * number + 50
        with SegmentWriter(part, info, settings) as writer:
            for picture in read_range(
                seam_clip.path, start, index.pts[start:stop], index.pts[start]
            ):
                writer.write(picture)
        parts.append(part)
    with pytest.raises(VeilError, match="other parameters"):
        join_segments(seam_clip.path, parts, tmp_path / "out.mp4", info)
    assert not (tmp_path / "out.mp4").exists()


def square(x: int) -> int:
    return x * x


def die_once(marker: str, x: int) -> int:
    """Kills its worker process the first time it runs (as the OOM killer would)."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os.kill(os.getpid(), 9)
    return x + 100


def test_executors_yield_every_result_with_its_position():
    tasks = [Task(f"square {i}", square, (i,)) for i in range(5)]
    assert sorted(InlineExecutor().run(tasks)) == [(i, i * i) for i in range(5)]
    local = LocalExecutor(processes=2)
    try:
        assert sorted(local.run(tasks)) == [(i, i * i) for i in range(5)]
    finally:
        local.close()


@pytest.mark.slow
def test_local_executor_runs_again_what_a_dead_worker_held(tmp_path: Path):
    marker = str(tmp_path / "died")
    tasks = [Task("dies", die_once, (marker, 1)), *(Task("sq", square, (i,)) for i in range(3))]
    local = LocalExecutor(processes=2)
    try:
        results = dict(local.run(tasks))
    finally:
        local.close()
    assert results == {0: 101, 1: 0, 2: 1, 3: 4}
    assert os.path.exists(marker)
