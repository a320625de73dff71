"""Checks that a segment-parallel result is the sequential one, seams included."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from distributed.helpers import SEAMS, Clip, Sequential
from helpers import decode_frames, frame_pts, region_diff, shrink
from veil.geometry import box_iou

# A blurred face differs from the original by tens of levels; two encodes of the
# same blurred picture (other keyframes) by about one.
BLURRED = 12.0
ENCODE_NOISE = 4.0
NEAR_SEAM = 6
SAME_BOX_IOU = 0.85


def events(path: Path) -> list[list[dict]]:
    data = json.loads(path.read_text())
    return [event for fragment in data["fragments"] for event in fragment["events"]]


def _xyxy(face: dict) -> tuple[float, float, float, float]:
    return face["x"], face["y"], face["x"] + face["width"], face["y"] + face["height"]


def assert_same_faces(index: int, ours: list[dict], theirs: list[dict]) -> None:
    """The same IDs with nearly the same boxes.

    Not identical: the searches near a known face start from where the
    tracker last saw it, and a segment's tracker starts without the history
    before its window, so a box found that way may differ by a pixel or two.
    """
    assert [f["id"] for f in ours] == [f["id"] for f in theirs], f"frame {index}"
    for a, b in zip(ours, theirs, strict=True):
        iou = box_iou(np.array([_xyxy(a)]), np.array([_xyxy(b)]))[0, 0]
        assert iou > SAME_BOX_IOU, f"frame {index}: face {a['id']} {a} against {b}"


def visible(box: tuple[int, int, int, int], shape: tuple[int, ...]) -> bool:
    """The face is wholly inside the frame (a cut-off face may be missed by both runs)."""
    x0, y0, x1, y1 = box
    return x0 >= 0 and y0 >= 0 and x1 <= shape[1] and y1 <= shape[0]


def assert_same_as_sequential(
    clip: Clip, sequential: Sequential, video: Path, annotations: Path
) -> None:
    # frames and timestamps
    assert frame_pts(video) == pytest.approx(frame_pts(sequential.video), abs=1e-9)
    with av.open(str(video)) as ours, av.open(str(sequential.video)) as theirs:
        assert [s.type for s in ours.streams] == [s.type for s in theirs.streams]
        assert ours.streams.audio[0].frames == theirs.streams.audio[0].frames
        assert ours.streams.video[0].frames == theirs.streams.video[0].frames
        assert float(ours.duration) == pytest.approx(float(theirs.duration), abs=0.05)
    # the same faces, the same IDs, frame by frame
    ours_events, theirs_events = events(annotations), events(sequential.annotations)
    assert len(ours_events) == len(theirs_events)
    for index, (ours, theirs) in enumerate(zip(ours_events, theirs_events, strict=True)):
        assert_same_faces(index, ours, theirs)
    # the pictures: every face hidden at the seams, as the sequential run hides it
    original, seq, par = (
        decode_frames(clip.path),
        decode_frames(sequential.video),
        decode_frames(video),
    )
    assert len(par) == len(original)
    checked = 0
    for seam in SEAMS:
        for index in range(seam - NEAR_SEAM, seam + NEAR_SEAM):
            for box in clip.boxes[index]:
                if not visible(box, original[index].shape):
                    continue
                inner = shrink(box)
                if region_diff(original[index], seq[index], inner) > BLURRED:
                    assert region_diff(original[index], par[index], inner) > BLURRED, (
                        f"face {box} not hidden in frame {index} (seam at {seam})"
                    )
                    checked += 1
                assert region_diff(seq[index], par[index], box) < ENCODE_NOISE
    assert checked >= 2 * NEAR_SEAM * len(SEAMS)
    # and nothing else changed more than encoding does
    worst = max(
        float(np.abs(a.astype(int) - b.astype(int)).mean()) for a, b in zip(seq, par, strict=True)
    )
    assert worst < ENCODE_NOISE
