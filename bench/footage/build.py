"""Labels from machine proposals plus hand corrections, and contact sheets to check them.

1. **Link** (:func:`link`): each searched frame's RetinaFace and CenterFace
   boxes are paired (IoU >= ``PAIR_IOU``: one face, RetinaFace's box kept),
   then linked frame to frame into tracks (IoU >= ``LINK_IOU`` with a
   track's last box, through gaps of up to ``GAP`` frames); a track's
   missing frames are interpolated linearly.
2. **Propose**: a track is proposed as a face when it has at least
   ``MIN_HITS`` detections and a best score of at least ``MIN_SCORE``.
3. **Correct** (:func:`apply_corrections`): the clip's corrections file
   (``bench/footage/corrections/<clip>.json``), written after looking at the
   sheets, keeps or drops tracks, gives them person IDs (several tracks of one
   person merge, gaps up to ``fill`` frames interpolated; ``assign`` gives part
   of a track to another person, where a track jumped faces), cuts frames out,
   adds boxes interpolated between key frames, and marks heads turned away::

       {"checked": "what was looked at, in words",
        "keep": [3, 7] or null (null: the proposal rule), "drop": [5],
        "people": {"3": 1, "7": 1}, "fill": 15,
        "cut": [[track, first, last]], "assign": [[track, first, last, person]],
        "add": [{"person": 1, "keys": [[frame, x0, y0, x1, y1], ...]}],
        "erase": [[person, first, last]], "away": [[person, first, last]]}

Usage:
    python -m bench.footage.build CLIP [...]            # write labels
    python -m bench.footage.build CLIP --sheet [--step N] [--first A --last B]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from bench.footage.labels import Box, Labels, file_sha256
from bench.footage.propose import PROPOSALS, VIDEOS, clip_key

from veil.geometry import box_iou
from veil.media import read_frames

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels"
CORRECTIONS = HERE / "corrections"
SHEETS = PROPOSALS.parent / "sheets"
PAIR_IOU = 0.4
LINK_IOU = 0.2
GAP = 8
MIN_HITS = 3
MIN_SCORE = 0.7


def _frame_detections(row: dict) -> list[tuple[Box, float, bool]]:
    """(box, score, both models) of one frame's proposals."""
    retina = [(tuple(d[:4]), d[4]) for d in row.get("retinaface", [])]
    center = [(tuple(d[:4]), d[4]) for d in row.get("centerface", [])]
    out: list[tuple[Box, float, bool]] = []
    used: set[int] = set()
    if retina and center:
        iou = box_iou([b for b, _ in retina], [b for b, _ in center])
    for i, (box, score) in enumerate(retina):
        j = int(np.argmax(iou[i])) if center else -1
        both = j >= 0 and iou[i, j] >= PAIR_IOU and j not in used
        if both:
            used.add(j)
            score = max(score, center[j][1])
        out.append((box, score, both))
    out += [(b, s, False) for j, (b, s) in enumerate(center) if j not in used]
    return out


def link(proposals: dict) -> dict[int, dict]:
    """Tracks: id -> {"boxes": {frame: box}, "hits": n, "score": best, "both": n}."""
    tracks: dict[int, dict] = {}
    gap = GAP * proposals.get("every", 1)
    for index, row in enumerate(proposals["frames"]):
        if "retinaface" not in row:
            continue
        dets = _frame_detections(row)
        live = [t for t, tr in tracks.items() if index - tr["last"] <= gap]
        pairs = []
        if dets and live:
            iou = box_iou(
                [d[0] for d in dets], [tracks[t]["boxes"][tracks[t]["last"]] for t in live]
            )
            pairs = sorted(
                ((iou[i, j], i, live[j]) for i in range(len(dets)) for j in range(len(live))),
                reverse=True,
            )
        taken_d: set[int] = set()
        taken_t: set[int] = set()
        for overlap, i, t in pairs:
            if overlap < LINK_IOU or i in taken_d or t in taken_t:
                continue
            taken_d.add(i)
            taken_t.add(t)
            _add(tracks[t], index, dets[i])
        for i, det in enumerate(dets):
            if i not in taken_d:
                tid = len(tracks) + 1
                tracks[tid] = {"boxes": {}, "hits": 0, "score": 0.0, "both": 0, "last": index}
                _add(tracks[tid], index, det)
    for track in tracks.values():
        track["boxes"] = interpolate(track["boxes"], gap)
    return tracks


def _add(track: dict, index: int, det: tuple[Box, float, bool]) -> None:
    track["boxes"][index] = det[0]
    track["hits"] += 1
    track["score"] = max(track["score"], det[1])
    track["both"] += det[2]
    track["last"] = index


def interpolate(boxes: dict[int, Box], max_gap: int) -> dict[int, Box]:
    """``boxes`` with gaps of up to ``max_gap`` frames filled linearly."""
    out = dict(boxes)
    keys = sorted(boxes)
    for a, b in itertools.pairwise(keys):
        if 1 < b - a <= max_gap + 1:
            for f in range(a + 1, b):
                t = (f - a) / (b - a)
                out[f] = tuple((1 - t) * u + t * v for u, v in zip(boxes[a], boxes[b], strict=True))
    return out


def proposed(track: dict) -> bool:
    return track["hits"] >= MIN_HITS and track["score"] >= MIN_SCORE


def apply_corrections(tracks: dict[int, dict], corrections: dict) -> tuple[dict, dict]:
    """(person -> frame -> box, person -> frames turned away) after ``corrections``."""
    keep = corrections.get("keep")
    chosen = [t for t in tracks if (t in keep if keep is not None else proposed(tracks[t]))]
    chosen = [t for t in chosen if t not in set(corrections.get("drop", []))]
    mapping = {int(k): v for k, v in corrections.get("people", {}).items()}
    boxes: dict[int, dict[int, Box]] = {}
    for number, t in enumerate(chosen, 1):
        person = mapping.get(t, number if not mapping else max(mapping.values()) + number)
        frames = dict(tracks[t]["boxes"])
        for track, first, last in corrections.get("cut", []):
            if track == t:
                frames = {f: b for f, b in frames.items() if not first <= f <= last}
        parts = {person: frames}
        for track, first, last, other in corrections.get("assign", []):
            if track == t:
                parts[other] = {f: b for f, b in frames.items() if first <= f <= last}
                frames = {f: b for f, b in frames.items() if not first <= f <= last}
                parts[person] = frames
        for owner, part in parts.items():
            target = boxes.setdefault(owner, {})
            for f, b in part.items():
                target.setdefault(f, b)
    fill = corrections.get("fill", 15)
    boxes = {p: interpolate(frames, fill) for p, frames in boxes.items()}
    for add in corrections.get("add", []):
        keys = {int(k[0]): tuple(float(v) for v in k[1:]) for k in add["keys"]}
        target = boxes.setdefault(add["person"], {})
        target.update(interpolate(keys, 10**6))
    for person, first, last in corrections.get("erase", []):
        boxes[person] = {f: b for f, b in boxes.get(person, {}).items() if not first <= f <= last}
    away: dict[int, set[int]] = {}
    for person, first, last in corrections.get("away", []):
        away.setdefault(person, set()).update(range(first, last + 1))
    return {p: f for p, f in boxes.items() if f}, away


def _load(clip: str) -> tuple[dict, dict[int, dict], dict]:
    key = clip_key(clip)
    source = PROPOSALS / f"{key}.json"
    if not source.is_file():  # no proposals yet: frames alone (sheets only)
        return {"frames": list(read_frames(VIDEOS / clip))}, {}, {}
    proposals = json.loads(source.read_text())
    path = CORRECTIONS / f"{key}.json"
    corrections = json.loads(path.read_text()) if path.is_file() else {}
    return proposals, link(proposals), corrections


def build(clip: str) -> Labels:
    proposals, tracks, corrections = _load(clip)
    boxes, away = apply_corrections(tracks, corrections)
    video = VIDEOS / clip
    labels = Labels(
        clip,
        file_sha256(video),
        len(proposals["frames"]),
        proposals["width"],
        proposals["height"],
        notes=corrections.get("checked", "machine proposals, not checked"),
    )
    labels.boxes, labels.away = boxes, away
    return labels


def sheet(clip: str, frames: list[int], path: Path, width: int, crop: Box | None = None) -> None:
    """Draws ``frames`` of ``clip`` (or their ``crop`` region) in a grid: labels green
    (blue: turned away) with their person ID, other tracks red with their track number."""
    _, tracks, corrections = _load(clip)
    boxes, away = apply_corrections(tracks, corrections)
    wanted = set(frames)
    tiles = []
    for frame in read_frames(VIDEOS / clip):
        if frame.index not in wanted:
            continue
        rgb = frame.rgb
        x, y = 0, 0
        if crop is not None:
            x, y = int(crop[0]), int(crop[1])
            rgb = rgb[y : int(crop[3]), x : int(crop[2])]
        rgb = np.ascontiguousarray(rgb)
        scale = width / rgb.shape[1]
        shift = (x, y, x, y)
        tile = cv2.resize(rgb, (width, round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        for t, track in tracks.items():
            box = track["boxes"].get(frame.index)
            if box is not None:
                box = tuple(v - o for v, o in zip(box, shift, strict=True))
                _draw(tile, box, scale, (255, 40, 40), f"t{t}", 1)
        for person, fb in boxes.items():
            box = fb.get(frame.index)
            if box is not None:
                box = tuple(v - o for v, o in zip(box, shift, strict=True))
                colour = (60, 120, 255) if frame.index in away.get(person, ()) else (0, 230, 0)
                _draw(tile, box, scale, colour, str(person), 2, below=True)
        cv2.putText(
            tile, str(frame.index), (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2
        )
        tiles.append(tile)
    cols = min(len(tiles), max(1, 1800 // width))
    rows = -(-len(tiles) // cols)
    h = max(t.shape[0] for t in tiles)
    grid = np.zeros((rows * h, cols * width, 3), np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, cols)
        grid[r * h : r * h + tile.shape[0], c * width : (c + 1) * width] = tile
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))


def _draw(tile, box: Box, scale: float, colour, text: str, thick: int, below: bool = False) -> None:
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    cv2.rectangle(tile, (x0, y0), (x1, y1), colour, thick)
    at = (x0, y1 + 12) if below else (x0, max(y0 - 3, 10))
    cv2.putText(tile, text, at, cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1)


def track_summary(clip: str) -> str:
    _, tracks, _ = _load(clip)
    lines = []
    for t, tr in tracks.items():
        frames = sorted(tr["boxes"])
        b = tr["boxes"][frames[0]]
        lines.append(
            f"t{t}: frames {frames[0]}-{frames[-1]} hits {tr['hits']} both {tr['both']} "
            f"best {tr['score']:.2f} {'P' if proposed(tr) else '-'} "
            f"first box {[round(v) for v in b]}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clips", nargs="+")
    parser.add_argument("--sheet", action="store_true")
    parser.add_argument("--tracks", action="store_true", help="list the linked tracks")
    parser.add_argument("--step", type=int, default=0)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--last", type=int, default=-1)
    parser.add_argument("--width", type=int, default=300)
    parser.add_argument("--crop", help="x0,y0,x1,y1: draw only this region of each frame")
    args = parser.parse_args(argv)
    for clip in args.clips:
        if args.tracks:
            print(track_summary(clip))
        if args.sheet:
            n = len(_load(clip)[0]["frames"])
            last = n - 1 if args.last < 0 else min(args.last, n - 1)
            step = args.step or max(1, (last - args.first + 1) // 30)
            frames = list(range(args.first, last + 1, step))
            crop = tuple(float(v) for v in args.crop.split(",")) if args.crop else None
            name = f"{clip_key(clip)}_{args.first}-{last}_s{step}"
            name += "_" + args.crop.replace(",", "-") if args.crop else ""
            sheet(clip, frames, SHEETS / f"{name}.png", args.width, crop)
            path = SHEETS / f"{name}.png"
            print(path)
        if not (args.sheet or args.tracks):
            build(clip).write(LABELS / f"{clip_key(clip)}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
