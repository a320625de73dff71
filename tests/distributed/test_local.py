"""Segment-parallel ``combined`` without Ray: the local process pool and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distributed.helpers import SEGMENT_SECONDS, Clip, Sequential
from distributed.seams import assert_same_as_sequential
from helpers import run_veil
from veil.distributed import LocalExecutor, SegmentProgress, combined_segments

pytestmark = pytest.mark.slow


def test_local_pool_matches_the_sequential_run(
    seam_clip: Clip, sequential: Sequential, tmp_path: Path
):
    out, ann = tmp_path / "out.mp4", tmp_path / "out.json"
    progress: list[int] = []
    segments: list[SegmentProgress] = []
    executor = LocalExecutor(processes=2)
    try:
        result = combined_segments(
            seam_clip.path,
            out,
            executor,
            annotations_out=ann,
            on_frame=progress.append,
            segment_seconds=SEGMENT_SECONDS,
            on_segment=segments.append,
        )
    finally:
        executor.close()
    assert result.frames == sequential.summary["frames"]
    assert result.face_ids == sequential.summary["face_ids"]
    assert_same_as_sequential(seam_clip, sequential, out, ann)
    # progress: per segment, both passes, up to twice the frame count
    assert [(s.stage, s.done) for s in segments] == [
        ("analyzed", 1),
        ("analyzed", 2),
        ("analyzed", 3),
        ("rendered", 1),
        ("rendered", 2),
        ("rendered", 3),
    ]
    assert progress == sorted(progress) and progress[-1] == 2 * result.frames
    # no part files left beside the output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.mp4"]


def test_cli_executor_local(seam_clip: Clip, sequential: Sequential, tmp_path: Path):
    out = tmp_path / "seams_redacted.mp4"
    result = run_veil(
        "combined",
        seam_clip.path,
        "-o",
        out,
        "--annotations-out",
        "--json",
        "--executor",
        "local",
        "--segment-seconds",
        str(SEGMENT_SECONDS),
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["results"][0]
    assert summary["frames"] == sequential.summary["frames"]
    assert summary["face_ids"] == sequential.summary["face_ids"]
    assert_same_as_sequential(seam_clip, sequential, out, tmp_path / "seams_annotations.json")
