"""Leaks, over-redaction and tracking on generated videos: veil beside deface.

Usage:
    python bench/eval_video.py [--data ../shared/data] [--out out/eval-video]
        [--scenario NAME ... | --group leaks|identity] [--veil NAME=ARGS ...]
        [--veil-src DIR] [--no-deface] [--controls] [--synthetic] [--seed N]

Generates the scenarios of :mod:`evaluation.scenarios` (real face photos
composited on real footage, with exact ground truth) into ``OUT/scenarios``,
runs ``veil combined --annotations-out`` (default settings, or each
``--veil NAME=ARGS`` configuration) and deface 1.5.0 at its defaults on each,
and prints markdown tables: leak rate, longest leaked run, background altered
(:mod:`evaluation.metrics`), and veil's identity scores: IDF1, ID
switches, IDs per person (mean over the true faces), and the share of the IDs
written that lie on no face at all, of every ID and of those not marked
low-confidence (the IDs a reviewer is shown as people). Per-run details
(every leaked frame of every face) go to ``OUT/results.json``.

deface runs from its own virtual environment, ``.venv-deface`` at the repo
root (its dependencies clash with veil's); it is created on first use with
``python3.11 -m venv .venv-deface && .venv-deface/bin/pip install deface==1.5.0``.
If that fails, or with ``--no-deface``, the tables show veil alone.

``--controls`` also scores two plain re-encodes that hide nothing (veil's
encoder, and deface with ``--replacewith none``): their leak rate must be
about 100 % and their background altered about 0, which checks the SSIM rule
and calibrates the background threshold.

``--veil-src DIR`` runs veil from another source tree (e.g. ``git archive``
of an older commit's ``src/``) on the same scenarios: a before/after table.

Without ``../shared/data`` the script says so and exits 0; ``--synthetic``
runs anyway on the fallback (the astronaut's face on a synthetic background),
whose numbers are not comparable with the README's.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from evaluation.metrics import IdScore, LeakSummary, summarize_leaks
from evaluation.scenarios import GROUPS, SCENARIOS, GroundTruth, generate
from evaluation.sources import load_backgrounds, load_faces
from evaluation.tools import (
    deface_binary,
    run_timed,
    run_veil_combined,
    score_output,
    track_scores,
)
from report import Tables, publish
from veil.annotations import read_annotations
from veil.media import read_frames, write_video

ROOT = Path(__file__).resolve().parent.parent
DEFACE_VENV = ROOT / ".venv-deface"


@dataclass
class RunResult:
    """One tool on one scenario."""

    tool: str
    scenario: str
    leaks: LeakSummary
    altered: int
    background: int
    seconds: float
    ids: IdScore | None = None
    low_confidence: frozenset[int] = frozenset()
    notes: list[str] = field(default_factory=list)

    @property
    def altered_share(self) -> float:
        return self.altered / self.background if self.background else 0.0


def score_video(
    tool: str, original: Path, output: Path, truth: GroundTruth, seconds: float
) -> RunResult:
    """Leaks and background alteration of ``output`` (a redacted ``original``)."""
    scored = score_output(original, output, truth)
    notes = []
    if scored.frames != len(truth.frames):
        notes.append(f"output has {scored.frames} of {len(truth.frames)} frames scored")
    leaks = summarize_leaks(scored.faces)
    return RunResult(
        tool, truth.name, leaks, scored.altered, scored.background, seconds, notes=notes
    )


def run_veil(
    name: str,
    args: list[str],
    video: Path,
    truth: GroundTruth,
    out: Path,
    source: Path | None = None,
) -> RunResult:
    folder = out / name
    seconds = run_veil_combined(video, folder, args, source)
    result = score_video(name, video, folder / f"{video.stem}_redacted.mp4", truth, seconds)
    annotations = folder / f"{video.stem}_annotations.json"
    result.ids = track_scores(annotations, truth)
    assessed = read_annotations(annotations).ids or ()
    result.low_confidence = frozenset(info.id for info in assessed if info.lowConfidence)
    return result


def run_deface(
    name: str, binary: Path, args: list[str], video: Path, truth: GroundTruth, out: Path
) -> RunResult:
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / f"{video.stem}_anonymized.mp4"
    seconds = run_timed([str(binary), str(video), "-o", str(output), *args])
    return score_video(name, video, output, truth, seconds)


def run_reencode(video: Path, truth: GroundTruth, out: Path) -> RunResult:
    """Control: veil's encoder (CRF 20) on the decoded frames, nothing hidden."""
    folder = out / "reencode"
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / video.name
    start = time.perf_counter()
    times = [Fraction(i, truth.fps) for i in range(len(truth.frames))]
    write_video(output, (f.rgb for f in read_frames(video)), times)
    return score_video("re-encode", video, output, truth, time.perf_counter() - start)


# ---------------------------------------------------------------- tables


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _cell(r: RunResult | None) -> list[str]:
    if r is None:
        return ["-", "-", "-"]
    return [_pct(r.leaks.rate), str(r.leaks.longest_run), _pct(r.altered_share)]


def _id_cells(r: RunResult | None) -> list[str]:
    """IDF1, switches, people, IDs, IDs per person (max), no-face IDs (all; not low-confidence)."""
    if r is None or r.ids is None:
        return ["-"] * 7
    ids = r.ids
    confident = ids.ids - r.low_confidence
    spurious = ids.no_face_ids & confident
    most = max(ids.ids_per_face.values(), default=0)
    return [
        f"{ids.idf1:.3f}",
        str(ids.id_switches),
        str(ids.people),
        str(len(ids.ids)),
        f"{ids.ids_per_person:.2f} ({most})",
        _pct(ids.no_face_share),
        _pct(len(spurious) / len(confident) if confident else 0.0),
    ]


def main_table(results: dict[str, dict[str, RunResult]], veil: str, deface: str | None) -> str:
    head = ["scenario", "face-frames"]
    head += [f"{veil} leaks", "run", "bg altered"]
    if deface:
        head += [f"{deface} leaks", "run", "bg altered"]
    head += [f"{veil} IDF1", "ID sw.", "people", "IDs", "IDs/person (max)"]
    head += ["IDs on no face", "of confident IDs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for scenario, row in results.items():
        v = row.get(veil)
        cells = [scenario, str(v.leaks.face_frames) if v else "-", *_cell(v)]
        if deface:
            cells += _cell(row.get(deface))
        cells += _id_cells(v)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def settings_table(results: dict[str, dict[str, RunResult]], tools: list[str]) -> str:
    head = ["setting", *results, "s / run"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tool in tools:
        cells = [tool]
        total = 0.0
        for row in results.values():
            r = row.get(tool)
            if r is None:
                cells.append("-")
                continue
            total += r.seconds
            cell = f"{_pct(r.leaks.rate)} / {r.leaks.longest_run} / {_pct(r.altered_share)}"
            if r.ids is not None:
                cell += f" / {r.ids.idf1:.2f} / {r.ids.ids_per_person:.2f}"
            cells.append(cell)
        cells.append(f"{total / max(len(results), 1):.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _as_json(r: RunResult) -> dict:
    data = {
        "tool": r.tool,
        "scenario": r.scenario,
        "face_frames": r.leaks.face_frames,
        "leaked": r.leaks.leaked,
        "leak_rate": r.leaks.rate,
        "longest_run": r.leaks.longest_run,
        "longest_run_id": r.leaks.longest_run_id,
        "leaked_frames": {str(k): v for k, v in r.leaks.leaked_frames.items()},
        "background_altered": r.altered_share,
        "seconds": r.seconds,
        "notes": r.notes,
    }
    if r.ids is not None:
        data |= {
            "idf1": r.ids.idf1,
            "idp": r.ids.idp,
            "idr": r.ids.idr,
            "id_switches": r.ids.id_switches,
            "ids_per_face": {str(k): v for k, v in r.ids.ids_per_face.items()},
            "people": r.ids.people,
            "ids_per_person": r.ids.ids_per_person,
            "ids": sorted(r.ids.ids),
            "no_face_ids": sorted(r.ids.no_face_ids),
            "low_confidence_ids": sorted(r.low_confidence),
        }
    return data


def _veil_config(text: str) -> tuple[str, list[str]]:
    name, _, args = text.partition("=")
    return name.strip(), shlex.split(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "eval-video")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--group", choices=GROUPS, help="every scenario of one group")
    parser.add_argument(
        "--veil",
        action="append",
        type=_veil_config,
        metavar="NAME=ARGS",
        help='a veil configuration, e.g. "big=--detect-size 1280" (default: "veil=")',
    )
    parser.add_argument(
        "--veil-src",
        type=Path,
        metavar="DIR",
        help="run veil from this source tree (a checkout of another version's src/)",
    )
    parser.add_argument("--no-deface", action="store_true", help="score veil alone")
    parser.add_argument("--controls", action="store_true", help="also score plain re-encodes")
    parser.add_argument("--synthetic", action="store_true", help="run without ../shared/data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep", action="store_true", help="reuse the scenarios already in OUT/scenarios"
    )
    args = parser.parse_args(argv)

    data: Path | None = args.data
    if not (data / "images").is_dir() or not (data / "videos").is_dir():
        if not args.synthetic:
            print(f"{data} not found: skipping the video evaluation (--synthetic runs anyway)")
            return 0
        print(f"{data} not found: astronaut face on a synthetic background", file=sys.stderr)
        data = None
    names = args.scenario or list(GROUPS[args.group] if args.group else SCENARIOS)
    configs = args.veil or [("veil", [])]
    deface = None if args.no_deface else deface_binary(DEFACE_VENV, create=True)

    start = time.perf_counter()
    scen = args.out / "scenarios"
    written = [(scen / f"{n}.mp4", scen / f"{n}.json") for n in names]
    if not (args.keep and all(v.is_file() and t.is_file() for v, t in written)):
        photos, backgrounds = load_faces(data), load_backgrounds(data)
        written = generate(scen, photos, backgrounds, names, args.seed)
        print(
            f"{len(written)} scenarios from {len(photos)} face photos and "
            f"{len(backgrounds) or 'synthetic'} background clips "
            f"in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )

    results: dict[str, dict[str, RunResult]] = {}
    for video, truth_path in written:
        truth = GroundTruth.read(truth_path)
        row: dict[str, RunResult] = {}
        jobs = [(name, "veil", extra) for name, extra in configs]
        if deface is not None:
            jobs.append(("deface", "deface", []))
        if args.controls:
            jobs.append(("re-encode", "re-encode", []))
            if deface is not None:
                jobs.append(("deface-none", "deface", ["--replacewith", "none"]))
        for tool, kind, extra in jobs:
            if kind == "veil":
                r = run_veil(tool, extra, video, truth, args.out, args.veil_src)
            elif kind == "deface":
                r = run_deface(tool, deface, extra, video, truth, args.out)  # type: ignore[arg-type]
            else:
                r = run_reencode(video, truth, args.out)
            row[tool] = r
            print(
                f"{truth.name:12s} {tool:14s} leaks {_pct(r.leaks.rate):>7s} "
                f"run {r.leaks.longest_run:3d} bg {_pct(r.altered_share):>7s} "
                f"{r.seconds:5.1f} s {' '.join(r.notes)}",
                file=sys.stderr,
            )
        results[truth.name] = row

    tools = [n for n, _ in configs] + (["deface"] if deface else [])
    if args.controls:
        tools += ["re-encode"] + (["deface-none"] if deface else [])
    (args.out / "results.json").write_text(
        json.dumps([_as_json(r) for row in results.values() for r in row.values()], indent=1)
    )
    tables = Tables()
    tables.print(main_table(results, configs[0][0], "deface" if deface else None))
    if deface is None:
        tables.print("\ndeface is not installed: veil alone.")
    if len(tools) > 2 or args.controls:
        tables.print(
            "\nleak rate / longest run / background altered / IDF1 / IDs per person, "
            "per scenario:\n"
        )
        tables.print(settings_table(results, tools))
    title = "Generated scenes: leaks, over-redaction, tracking (make eval-video)"
    publish("eval-video", title, tables.text)
    print(f"\n{time.perf_counter() - start:.0f} s in all; details in {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
