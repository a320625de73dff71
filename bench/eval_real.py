"""Leaks on real faces: WIDER FACE photos filmed by a virtual camera, veil beside deface.

Usage:
    python bench/eval_real.py [--data ../shared/data] [--out out/eval-real]
        [--photos N] [--veil NAME=ARGS ...] [--source SRC] [--baseline SRC] [--no-deface]
        [--seed N] [--keep]

Films the labelled photos of ``DATA/images/wider-dev`` with
:mod:`evaluation.camera` (pan, zoom, slight shake, 1.6 s per photo, hard
cuts; 960x540 at 25 fps; exact ground truth per frame) into ``OUT/real.mp4``,
runs ``veil combined`` (each ``--veil NAME=ARGS`` configuration; by default
the default settings; ``--source``: the veil of another source tree, e.g. a
git worktree of the commit under test, so that editing this one does not
change a run under way), ``--baseline``'s veil at its defaults (another source
tree, e.g. a worktree of an earlier commit: before and after in one run),
and deface 1.5.0 at its defaults on it, and prints one
markdown table: leak rate over all scored face-frames and by face size (the
true box's larger side, in the video's pixels), the longest leaked run, how
many leaked face-frames no mask touched (under 10 % of the box changed),
background altered, veil's IDF1, and each tool's speed (frames per second of
the whole command, start-up included; 2 shared cores: compare within a run).

The leak verdict is :mod:`evaluation.metrics`'s (48x48 contrast-
normalised SSIM >= 0.6 on the face box; faces under 10 px, less than 60 %
in the frame, and WIDER's ``ignore`` boxes are not scored). Per-run details
(every leaked face-frame) go to ``OUT/results.json``.

Without ``../shared/data`` the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluation.camera import photos_from_manifest, write_film
from evaluation.metrics import IdScore, longest_run
from evaluation.scenarios import GroundTruth
from evaluation.tools import (
    ScoredVideo,
    deface_binary,
    run_timed,
    run_veil_combined,
    score_output,
    track_scores,
)
from report import publish

ROOT = Path(__file__).resolve().parent.parent
DEFACE_VENV = ROOT / ".venv-deface"
# Face-size buckets (larger side of the true box, px): [low, high).
BUCKETS = (("< 24 px", 0.0, 24.0), ("24-48 px", 24.0, 48.0), (">= 48 px", 48.0, float("inf")))
# A leaked face-frame with less of its box changed than this was touched by no mask.
UNTOUCHED = 0.1


@dataclass
class Result:
    """One tool's run on the film."""

    tool: str
    scored: ScoredVideo
    seconds: float
    ids: IdScore | None = None

    def _leaks(self, low: float = 0.0, high: float = float("inf")) -> tuple[int, int]:
        rows = [
            f.leaked
            for f, size in zip(self.scored.faces, self.scored.sizes, strict=True)
            if f.scored and low <= size < high
        ]
        return sum(rows), len(rows)

    def rate(self, low: float = 0.0, high: float = float("inf")) -> float:
        leaked, scored = self._leaks(low, high)
        return leaked / scored if scored else 0.0

    @property
    def face_frames(self) -> int:
        return self._leaks()[1]

    @property
    def untouched(self) -> float:
        """Share of scored face-frames that leaked with (almost) no pixel changed."""
        rows = [
            f.leaked and touched < UNTOUCHED
            for f, touched in zip(self.scored.faces, self.scored.touched, strict=True)
            if f.scored
        ]
        return sum(rows) / len(rows) if rows else 0.0

    @property
    def longest_run(self) -> int:
        per_face: dict[int, list[int]] = {}
        for f in self.scored.faces:
            if f.leaked:
                per_face.setdefault(f.face_id, []).append(f.frame)
        return max((longest_run(frames) for frames in per_face.values()), default=0)

    @property
    def background(self) -> float:
        s = self.scored
        return s.altered / s.background if s.background else 0.0

    @property
    def fps(self) -> float:
        return self.scored.frames / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict:
        leaked: dict[str, list[int]] = {}
        for f in self.scored.faces:
            if f.leaked:
                leaked.setdefault(str(f.face_id), []).append(f.frame)
        data = {
            "tool": self.tool,
            "face_frames": self.face_frames,
            "leak_rate": self.rate(),
            **{f"leak_rate {name}": self.rate(low, high) for name, low, high in BUCKETS},
            "untouched": self.untouched,
            "longest_run": self.longest_run,
            "background_altered": self.background,
            "seconds": self.seconds,
            "fps": self.fps,
            "leaked_frames": leaked,
        }
        if self.ids is not None:
            data |= {"idf1": self.ids.idf1, "id_switches": self.ids.id_switches}
        return data


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def table(results: list[Result]) -> str:
    head = ["tool", "face-frames", "leaks", *(name for name, _, _ in BUCKETS)]
    head += ["untouched", "run", "bg altered", "IDF1", "fps"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r.tool, str(r.face_frames), _pct(r.rate())]
        cells += [_pct(r.rate(low, high)) for _, low, high in BUCKETS]
        cells += [_pct(r.untouched), str(r.longest_run), _pct(r.background)]
        cells += [f"{r.ids.idf1:.2f}" if r.ids else "-", f"{r.fps:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_veil(
    name: str,
    args: list[str],
    video: Path,
    truth: GroundTruth,
    out: Path,
    source: Path | None = None,
) -> Result:
    """``veil combined`` with ``args``; ``source``: run the veil of that source tree instead."""
    folder = out / name
    seconds = run_veil_combined(video, folder, args, None if source is None else source / "src")
    scored = score_output(video, folder / f"{video.stem}_redacted.mp4", truth)
    ids = track_scores(folder / f"{video.stem}_annotations.json", truth)
    return Result(name, scored, seconds, ids)


def run_deface(binary: Path, video: Path, truth: GroundTruth, out: Path) -> Result:
    folder = out / "deface"
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / f"{video.stem}_anonymized.mp4"
    seconds = run_timed([str(binary), str(video), "-o", str(output)])
    return Result("deface", score_output(video, output, truth), seconds)


def _veil_config(text: str) -> tuple[str, list[str]]:
    name, _, args = text.partition("=")
    return name.strip(), shlex.split(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "eval-real")
    parser.add_argument("--photos", type=int, default=0, help="film only the first N photos")
    parser.add_argument(
        "--veil",
        action="append",
        type=_veil_config,
        metavar="NAME=ARGS",
        help='a veil configuration, e.g. "high=--blur high" (default: "veil=")',
    )
    parser.add_argument(
        "--source",
        type=Path,
        metavar="SRC",
        help="run the --veil configurations with the veil of this source tree",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="SRC",
        help="also run the veil of this source tree (e.g. an earlier commit's worktree)",
    )
    parser.add_argument("--no-deface", action="store_true", help="score veil alone")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="reuse the film already in OUT")
    args = parser.parse_args(argv)

    folder = args.data / "images" / "wider-dev"
    if not (folder / "manifest.json").is_file():
        print(f"{folder} not found: skipping the real-faces evaluation")
        return 0
    start = time.perf_counter()
    video, truth_path = args.out / "real.mp4", args.out / "real.json"
    if not (args.keep and video.is_file() and truth_path.is_file()):
        photos = photos_from_manifest(folder)
        photos = photos[: args.photos] if args.photos else photos
        video, truth_path = write_film(photos, args.out, seed=args.seed)
    truth = GroundTruth.read(truth_path)
    print(f"{truth.description}: {len(truth.frames)} frames", file=sys.stderr)

    results = []
    source = args.source.resolve() if args.source is not None else None
    runs = [(name, extra, source) for name, extra in args.veil or [("veil", [])]]
    if args.baseline is not None:
        runs.append(("before", [], args.baseline.resolve()))
    for name, extra, source in runs:
        results.append(run_veil(name, extra, video, truth, args.out, source))
        print(table(results[-1:]).splitlines()[-1], file=sys.stderr)
    deface = None if args.no_deface else deface_binary(DEFACE_VENV, create=True)
    if deface is not None:
        results.append(run_deface(deface, video, truth, args.out))
    (args.out / "results.json").write_text(json.dumps([r.as_json() for r in results], indent=1))
    print(table(results))
    publish("eval-real", "Real faces: WIDER FACE photos, filmed (make eval-real)", table(results))
    print(f"\n{time.perf_counter() - start:.0f} s in all; details in {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
