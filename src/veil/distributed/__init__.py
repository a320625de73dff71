"""Segment-parallel redaction: one long video on many cores or many machines.

``combined_segments`` does what ``veil.pipeline.combined`` does, in four steps:

1. **Plan** (here, cheap): the video stream's packets are read without
   decoding (timestamps, keyframes) and the video is cut at the first keyframe
   at least ``segment_seconds`` after the previous cut. Each segment *owns*
   the frames ``[start, stop)``; its *window* adds ``overlap`` frames on each
   side, where ``overlap`` is the tracker's look-ahead
   (``max(max_gap, pad_frames + detect_every - 1) + detect_every``; 26 frames
   by default).
2. **Analyse** (executor, in parallel): each task seeks to the keyframe at or
   before its window, decodes the window and runs the same ``FaceFinder``
   (detector + online tracker) as a whole-video run, on global frame numbers,
   so detection falls on the same ``detect_every`` grid and sees the same
   decoded pictures. It returns its settled boxes with its own track IDs.
3. **Stitch** (here, cheap): two neighbouring windows overlap by
   ``2 * overlap`` frames; tracks holding the same detections there (IoU >=
   0.5 on the same frame) are one face. Union-find gives global IDs,
   numbered by first detection as the whole-video tracker numbers them.
4. **Render and join** (executor, then here): each task decodes only its own
   frames, blurs the stitched boxes and encodes them with the job's encoder
   settings into an MP4 of its own (a fresh encoder starts with an IDR
   picture, so each part decodes alone; identical settings give identical
   SPS/PPS, which the join checks). The parts' packets are then copied one
   after another into the output (no re-encoding), with the source's audio
   and subtitles copied in one piece, interleaved by time.

**Why the seams match a whole-video run.** The tracker decides frame ``i``
from detections in ``[i - overlap, i + overlap]``: a track ends after
``max_gap`` undetected frames, boxes are interpolated across at most
``max_gap`` frames and padded ``pad_frames`` (+ stride) before and after, and
a frame is final once detections ``lookahead`` frames later are known. The
owner's window holds all of that for each of its frames, so its boxes are the
whole-video run's; the one thing a window cannot hold is the history of the
motion prediction (a smoothed velocity), which after ``overlap`` frames of
warm-up differs by about 2^-overlap of a face's speed and does not change an
assignment in practice. As a safety net, a frame's boxes are the *union* over
every window that settled it with enough look-ahead (the owner's and, near a
seam, the neighbour's): where two views disagree the covering box is blurred,
so a seam can only blur more, never less. Frame numbers, timestamps and the
frame count come from the packet index and are checked at every step
(decoded ranges must match it exactly; the join must write exactly one packet
per frame; part timestamps must increase).

Costs: each frame is decoded twice (analysis, render) plus ``2 * overlap``
extra frames detected per segment; stitching is O(faces in the overlaps), the
join is a packet copy (no decoding). Inputs must be readable at the same path
by every worker (a shared file system on a cluster); parts come back through
the executor (Ray's object store), so outputs need no shared storage.
"""

from veil.distributed.executors import (
    EXECUTOR_NAMES,
    RAY_ADDRESS_ENV,
    Executor,
    InlineExecutor,
    LocalExecutor,
    RayExecutor,
    Task,
    make_executor,
)
from veil.distributed.job import (
    DEFAULT_SEGMENT_SECONDS,
    SegmentProgress,
    combined_segments,
    per_segment,
)
from veil.distributed.plan import Segment, overlap_frames, plan_segments
from veil.distributed.stitch import stitch

__all__ = [
    "DEFAULT_SEGMENT_SECONDS",
    "EXECUTOR_NAMES",
    "RAY_ADDRESS_ENV",
    "Executor",
    "InlineExecutor",
    "LocalExecutor",
    "RayExecutor",
    "Segment",
    "SegmentProgress",
    "Task",
    "combined_segments",
    "make_executor",
    "overlap_frames",
    "per_segment",
    "plan_segments",
    "stitch",
]
