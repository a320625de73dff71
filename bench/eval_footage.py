"""Leaks, over-redaction and IDs on real footage with hand-checked labels: veil beside deface.

Usage:
    python bench/eval_footage.py [--clips SUBSTR,...] [--profiles fast,balanced,thorough]
        [--no-deface] [--rerun-deface] [--reuse] [--source SRC] [--out out/eval-footage]

For each labelled clip (``bench/footage/labels/*.json``, the clips of
``../shared/data/videos``; ``--clips``: only those whose name contains one of
the comma-separated strings), runs ``veil combined --quality P`` for each
profile of ``--profiles`` (default ``fast,balanced``; thorough is slow: add
it by name) and deface 1.5.0 at its defaults, and scores each output against
the labels (``bench/footage/score.py``): face-frames leaked (under 90 % of
the face box masked, or eval-real's SSIM verdict), the worst run of
consecutive leaked frames of one person, heads turned away left uncovered
(apart), over-redaction (share of the frame masked outside every labelled
head), IDs, IDs on no labelled face, IDs per person, IDF1 and fps (frames per
second of the whole command, start-up included).

deface's outputs are kept in ``out/eval-footage/runs/deface/`` (whatever
``--out``) with the clip's hash and reused while the clip is unchanged
(``--rerun-deface`` runs it again); ``--reuse`` also reuses veil's outputs
already in ``OUT`` (rescoring after a label change). ``--source SRC`` runs
the veil of another source tree (e.g. a worktree of the commit under test). A
table goes to stdout, every figure and every leaked frame to
``OUT/results.json``.

Without ``../shared/data`` the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.footage.labels import Labels, file_sha256  # noqa: E402
from bench.footage.score import (  # noqa: E402
    ClipScore,
    aligned,
    annotation_mask,
    from_zero,
    id_figures,
    judge_face,
    outside_heads,
    pixel_mask,
    totals,
)

from evaluation.tools import deface_binary, run_timed, run_veil_combined  # noqa: E402
from report import publish  # noqa: E402
from veil.annotations import AnnotationIndex, read_annotations  # noqa: E402
from veil.media import read_frames  # noqa: E402

LABELS = ROOT / "bench" / "footage" / "labels"
VIDEOS = ROOT.parent / "shared" / "data" / "videos"
DEFACE_VENV = ROOT / ".venv-deface"
# deface's outputs, whatever --out: deface does not change, so every run shares them
DEFACE_RUNS = ROOT / "out" / "eval-footage" / "runs" / "deface"
PROFILES = ("fast", "balanced", "thorough")


def run_tool(tool: str, labels: Labels, folder: Path, reuse: bool, source: Path | None) -> dict:
    """Runs ``tool`` on the clip into ``folder`` (or reuses what is there); its run record."""
    record_path = folder / "run.json"
    if reuse and record_path.is_file():
        record = json.loads(record_path.read_text())
        if record.get("sha256") == labels.sha256:
            return record
    video = VIDEOS / labels.clip
    folder.mkdir(parents=True, exist_ok=True)
    if tool == "deface":
        output = folder / f"{video.stem}_anonymized.mp4"
        binary = deface_binary(DEFACE_VENV, create=True)
        if binary is None:
            raise RuntimeError("deface is not available")
        seconds = run_timed([str(binary), str(video), "-o", str(output)])
        annotations = None
    else:
        seconds = run_veil_combined(video, folder, ["--quality", tool], source)
        output = folder / f"{video.stem}_redacted.mp4"
        annotations = str(folder / f"{video.stem}_annotations.json")
    record = {
        "tool": tool,
        "sha256": labels.sha256,
        "seconds": seconds,
        "output": str(output),
        "annotations": annotations,
    }
    record_path.write_text(json.dumps(record, indent=1))
    return record


def score_clip(labels: Labels, tool: str, record: dict) -> ClipScore:
    """Scores one output against the labels, frame by frame (the output aligned by time)."""
    truth = labels.per_frame()
    index = None
    if record["annotations"]:
        annotations = read_annotations(Path(record["annotations"]))
        index = AnnotationIndex(annotations, (labels.width, labels.height))
    originals = from_zero((float(f.time), f) for f in read_frames(VIDEOS / labels.clip))
    outputs = from_zero((float(f.time), f) for f in read_frames(Path(record["output"])))
    score = ClipScore(labels.clip, tool, labels.frames, record["seconds"])
    hyps = []
    for (original, output), faces in zip(aligned(originals, outputs), truth, strict=True):
        a = original.rgb
        b = output.rgb if output is not None else np.zeros_like(a)
        if b.shape != a.shape:
            b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
        if index is not None:
            boxes = index.faces_at(Fraction(original.time))
            hyps.append([(fb.face_id, (fb.x0, fb.y0, fb.x1, fb.y1)) for fb in boxes])
            mask = annotation_mask([box for _, box in hyps[-1]], labels.width, labels.height)
            cover = mask
        else:
            mask, cover = pixel_mask(a, b), pixel_mask(a, b, sensitive=True)
        score.faces += [judge_face(original.index, a, b, cover, face) for face in faces]
        score.masked_outside += outside_heads(mask, faces)
        score.area += mask.size
    if index is not None:
        figures = id_figures(truth, hyps, labels.width, labels.height)
        score.idf1, score.ids = figures["idf1"], figures["ids"]
        score.ids_on_no_face, score.ids_on_faces = (
            figures["ids_on_no_face"],
            figures["ids_on_faces"],
        )
        score.people = figures["people"]
    return score


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %" if x >= 0.001 or x == 0 else f"{100 * x:.2f} %"


def _num(x: float | int | None, fmt: str = "{}") -> str:
    return "-" if x is None else fmt.format(x)


HEAD = ["clip", "tool", "face-frames", "leaked", "worst run", "away leaked", "over-redaction"]
HEAD += ["IDs", "on no face", "IDs/person", "IDF1", "fps"]


def row(s: ClipScore) -> str:
    cells = [
        Path(s.clip).stem,
        s.tool,
        str(s.face_frames),
        f"{s.leaked} ({_pct(s.leaked / s.face_frames if s.face_frames else 0)})",
        str(s.worst_run),
        f"{s.away_leaked}/{s.away_frames}" if s.away_frames else "-",
        _pct(s.over_redaction),
        _num(s.ids),
        _num(s.ids_on_no_face),
        _num(s.ids_per_person, "{:.2f}"),
        _num(s.idf1, "{:.2f}"),
        f"{s.fps:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def total_row(tool: str, t: dict) -> str:
    cells = [
        "**all**",
        tool,
        str(t["face_frames"]),
        f"{t['leaked']} ({_pct(t['leak_rate'])})",
        str(t["worst_run"]),
        f"{t['away_leaked']}/{t['away_frames']}" if t["away_frames"] else "-",
        f"{_pct(t['over_redaction_face_clips'])}; no-face clips "
        + _pct(t["over_redaction_no_face_clips"]),
        _num(t["ids"]),
        _num(t["ids_on_no_face"]),
        _num(t["ids_per_person"], "{:.2f}"),
        "-",
        f"{t['fps']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", default="", help="comma-separated name filters")
    parser.add_argument("--profiles", default="fast,balanced")
    parser.add_argument("--no-deface", action="store_true")
    parser.add_argument("--rerun-deface", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="reuse veil's outputs too")
    parser.add_argument("--source", type=Path, help="run the veil of this source tree")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "eval-footage")
    args = parser.parse_args(argv)
    if not VIDEOS.is_dir():
        print(f"{VIDEOS} not found: skipping the footage evaluation")
        return 0
    profiles = [p for p in args.profiles.split(",") if p]
    unknown = set(profiles) - set(PROFILES)
    if unknown:
        parser.error(f"unknown profile(s) {', '.join(sorted(unknown))}: choose from {PROFILES}")
    filters = [c for c in args.clips.split(",") if c]
    all_labels = [Labels.read(p) for p in sorted(LABELS.glob("*.json"))]
    chosen = [lab for lab in all_labels if not filters or any(f in lab.clip for f in filters)]
    if not chosen:
        parser.error(f"no labelled clip matches {args.clips!r}")
    if "thorough" not in profiles:
        print("thorough not run (slow): add it with --profiles", file=sys.stderr)
    tools = profiles + ([] if args.no_deface else ["deface"])
    source = None if args.source is None else args.source.resolve() / "src"
    start = time.perf_counter()
    scores: list[ClipScore] = []
    print("| " + " | ".join(HEAD) + " |\n|" + "---|" * len(HEAD), file=sys.stderr)
    for labels in chosen:
        video = VIDEOS / labels.clip
        if file_sha256(video) != labels.sha256:
            raise SystemExit(f"{labels.clip} changed since it was labelled (hash differs)")
        for tool in tools:
            reuse = not args.rerun_deface if tool == "deface" else args.reuse
            runs = DEFACE_RUNS if tool == "deface" else args.out / "runs" / tool
            folder = runs / Path(labels.clip).stem
            record = run_tool(tool, labels, folder, reuse, source)
            scores.append(score_clip(labels, tool, record))
            print(row(scores[-1]), file=sys.stderr)
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += [row(s) for s in scores]
    summary = {tool: totals([s for s in scores if s.tool == tool]) for tool in tools}
    lines += [total_row(tool, t) for tool, t in summary.items()]
    print("\n".join(lines))
    args.out.mkdir(parents=True, exist_ok=True)
    results = {
        "clips": [s.as_json() for s in scores],
        "totals": summary,
        "command": " ".join(sys.argv),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    if not filters and source is None:  # only a whole run of this tree is its figures
        publish(
            "eval-footage", "Real footage with labelled faces (make eval-footage)", "\n".join(lines)
        )
    print(f"\n{time.perf_counter() - start:.0f} s in all; details in {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
