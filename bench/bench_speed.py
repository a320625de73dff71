"""Speed benchmark: veil combined against the decode+encode floor and deface, in one run.

    python bench/bench_speed.py [--data ../shared/data] [--repeat 3] [--no-deface]

For each clip it times, in turn and repeated: the floor (PyAV decode and
libx264 encode at veil's default settings, nothing else), ``veil combined`` at
its defaults (the real command, model loading included), and deface at its
defaults when ``.venv-deface`` exists (``make deface-env``). It prints fps and
the ratios to the floor as a markdown table, plus the peak memory of veil and
of the floor, and veil's start-up time (a one-frame clip). A second table
splits the detector's time per video frame (wall and CPU) into the
whole-frame pass, the enlarged pass and the searches near known faces, from
the same pipeline run in-process with the detector's calls timed. Compare
ratios, not absolute figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

import av
import numpy as np

from evaluation.samples import MovingFace, make_sample_video
from report import Tables, publish
from veil.media import EncoderSettings

REPO = Path(__file__).resolve().parent.parent
DEFACE = REPO / ".venv-deface" / "bin" / "deface"
T = TypeVar("T")


@dataclass
class Timing:
    seconds: float
    peak_rss_mb: float


def run_child(command: list[str]) -> Timing:
    """Run a command; its wall time and peak resident memory."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0]} failed: {proc.stderr.read().decode()[-500:]}")
    return Timing(seconds, usage.ru_maxrss / 1024)


def floor(src: Path, dst: Path, settings: EncoderSettings) -> Timing:
    """Decode and re-encode with veil's encoder settings: the cost veil cannot avoid."""
    script = f"""
import av, sys
with av.open({str(src)!r}) as inp, av.open({str(dst)!r}, "w") as out:
    vin = inp.streams.video[0]
    vin.thread_type = "AUTO"
    vout = out.add_stream({settings.codec!r}, rate=vin.guessed_rate or 25)
    vout.width, vout.height = vin.codec_context.width // 2 * 2, vin.codec_context.height // 2 * 2
    vout.pix_fmt = {settings.pixel_format!r}
    vout.options = {{"crf": "{settings.crf}", "preset": {settings.preset!r}}}
    for frame in inp.decode(vin):
        frame = frame.reformat(width=vout.width, height=vout.height,
                               format={settings.pixel_format!r})
        frame.pict_type = av.video.frame.PictureType.NONE  # as veil: x264 picks frame types
        out.mux(vout.encode(frame))
    out.mux(vout.encode(None))
"""
    return run_child([sys.executable, "-c", script])


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def generated_clip(folder: Path, width: int, height: int, frames: int) -> Path:
    path = folder / f"generated-{height}p.mp4"
    scale = height / 360
    faces = [
        MovingFace(
            size=int(110 * scale), start=(40 * scale, 60 * scale), end=(260 * scale, 90 * scale)
        ),
        MovingFace(
            size=int(40 * scale), start=(520 * scale, 200 * scale), end=(420 * scale, 180 * scale)
        ),
    ]
    make_sample_video(
        path,
        width=width,
        height=height,
        faces=faces,
        times=[Fraction(i, 25) for i in range(frames)],
    )
    return path


def in_child(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` in a fresh process.

    A timed command's peak memory (``ru_maxrss``) includes what this process
    held when it forked it: making a 4K clip or decoding one here would show
    up in every later figure.
    """
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


class TimedDetector:
    """A detector whose calls are timed, by kind: whole frame, enlarged pass, search.

    A call with ``upscale`` above 1 is the enlarged pass, one with a lowered
    ``threshold`` a search near a known face (``pipeline/search.py``), the rest
    the whole-frame pass.
    """

    def __init__(self, detector: object) -> None:
        self.detector = detector
        self.name = detector.name
        self.seconds: dict[str, list[float]] = {
            kind: [0.0, 0.0, 0] for kind in ("whole frame", "enlarged", "searches")
        }

    def detect(self, rgb: np.ndarray, threshold=None, upscale=None):
        wall, cpu = time.perf_counter(), time.process_time()
        found = self.detector.detect(rgb, threshold=threshold, upscale=upscale)
        if upscale is not None and upscale > 1:
            kind = "enlarged"
        elif threshold is not None:
            kind = "searches"
        else:
            kind = "whole frame"
        entry = self.seconds[kind]
        entry[0] += time.perf_counter() - wall
        entry[1] += time.process_time() - cpu
        entry[2] += 1
        return found


def detector_split(clip: Path, work: Path) -> dict[str, list[float]]:
    """The detector's time in ``veil combined`` at its defaults, by kind of call."""
    from veil.detect import load_detector
    from veil.pipeline import PipelineConfig, combined

    config = PipelineConfig()
    timed = TimedDetector(load_detector(config.detector))
    combined(clip, work / "split.mp4", timed, config)  # type: ignore[arg-type]
    return timed.seconds


def bench_clip(clip: Path, work: Path, repeat: int, deface: bool) -> dict[str, object]:
    frames = in_child(frame_count, clip)
    times: dict[str, list[Timing]] = {"floor": [], "veil": [], "deface": []}
    for _ in range(repeat):
        times["floor"].append(floor(clip, work / "floor.mp4", EncoderSettings()))
        times["veil"].append(
            run_child(
                [
                    str(REPO / ".venv/bin/veil"),
                    "combined",
                    str(clip),
                    "-o",
                    str(work / "veil.mp4"),
                    "--quiet",
                ]
            )
        )
        if deface:
            times["deface"].append(
                run_child([str(DEFACE), str(clip), "-o", str(work / "deface.mp4")])
            )
    fps = {k: frames / statistics.median(t.seconds for t in v) for k, v in times.items() if v}
    return {
        "clip": clip.name,
        "frames": frames,
        "fps": fps,
        "veil_rss_mb": max(t.peak_rss_mb for t in times["veil"]),
        "floor_rss_mb": max(t.peak_rss_mb for t in times["floor"]),
    }


def startup(work: Path) -> float:
    one = work / "one-frame.mp4"
    make_sample_video(one, frames=1, audio=False)
    runs = [
        run_child(
            [
                str(REPO / ".venv/bin/veil"),
                "combined",
                str(one),
                "-o",
                str(work / "one-out.mp4"),
                "--quiet",
            ]
        ).seconds
        for _ in range(3)
    ]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-deface", action="store_true")
    parser.add_argument("--clips", nargs="*", help="only clips whose name contains these")
    parser.add_argument(
        "--split-only", action="store_true", help="only the detector's time, not the commands"
    )
    args = parser.parse_args()
    deface = not args.no_deface and DEFACE.exists()
    tables = Tables()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clips = [
            in_child(generated_clip, work, 1280, 720, 100),
            in_child(generated_clip, work, 1920, 1080, 100),
            # for memory at 4K more than speed: shorter, since deface takes seconds a frame
            in_child(generated_clip, work, 3840, 2160, 50),
        ]
        videos = args.data / "videos"
        if videos.is_dir():
            clips += [
                videos / "street-1080p.mp4",
                videos / "podcast-480p.mp4",
                videos / "intel" / "face-demographics-walking.mp4",
            ]
        else:
            tables.print(f"({videos} not found: generated clips only)")
        if args.clips:
            clips = [c for c in clips if any(k in c.name for k in args.clips)]
        if not args.split_only:
            bench_commands(clips, work, args.repeat, deface, tables)
        tables.print(
            "\n| clip | frames | detector ms / frame (wall, CPU) | whole frame | enlarged pass"
            " | searches near faces |"
        )
        tables.print("|---|---|---|---|---|---|")
        for clip in clips:
            frames = in_child(frame_count, clip)
            split = in_child(detector_split, clip, work)
            wall = sum(v[0] for v in split.values()) * 1000 / frames
            cpu = sum(v[1] for v in split.values()) * 1000 / frames
            cells = " | ".join(
                f"{int(n)} x {1000 * w / max(n, 1):.1f} ms = {w:.2f} s"
                for w, _, n in split.values()
            )
            tables.print(f"| {clip.name} | {frames} | {wall:.1f}, {cpu:.1f} | {cells} |")
    publish("bench-speed", "Speed and memory: veil combined, the floor and deface", tables.text)


def bench_commands(
    clips: list[Path], work: Path, repeat: int, deface: bool, tables: Tables
) -> None:
    """The table of veil, the floor and deface, and veil's start-up time."""
    tables.print(f"veil start-up (one-frame clip, model load included): {startup(work):.2f} s\n")
    tables.print(
        "| clip | frames | floor fps | veil fps | veil / floor | deface fps |"
        " veil / deface | veil peak RSS | floor peak RSS |"
    )
    tables.print("|---|---|---|---|---|---|---|---|---|")
    for clip in clips:
        r = bench_clip(clip, work, repeat, deface)
        fps = r["fps"]
        deface_fps = fps.get("deface")
        deface_cells = (
            f"{deface_fps:.1f} | {fps['veil'] / deface_fps:.1f}" if deface_fps else "n/a | n/a"
        )
        tables.print(
            f"| {r['clip']} | {r['frames']} | {fps['floor']:.1f} | {fps['veil']:.1f} | "
            f"{fps['veil'] / fps['floor']:.2f} | {deface_cells} | {r['veil_rss_mb']:.0f} MB | "
            f"{r['floor_rss_mb']:.0f} MB |"
        )


if __name__ == "__main__":
    main()
