"""The scenario set of the video evaluation, and writing it to disk.

Two groups, each a builder per scene from a random source and the face photos:

- leaks and over-redaction (here): a crowd, small and large faces, rotation,
  motion blur, a crossing with a pillar, night, faces crossing the frame edge;
- identity (:mod:`evaluation.identity_scenes`): scenes built to split
  or swap tracks.

:func:`generate` renders the named ones (:mod:`evaluation.compositing`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from evaluation.compositing import write_scenario
from evaluation.identity_scenes import IDENTITY_BUILDERS
from evaluation.scene import Actor, FaceTruth, GroundTruth, Occluder, Scenario, pick_photos
from evaluation.sources import BackgroundClip, FacePhoto

# What the evaluation scripts read back from each scenario's JSON.
__all__ = ["GROUPS", "SCENARIOS", "FaceTruth", "GroundTruth", "build", "generate"]


def _crowd(rng, photos) -> Scenario:
    w, h, secs, n = 1280, 720, 3.0, 14
    idx = pick_photos(rng, photos, n)
    actors = []
    for i in range(n):
        size = float(rng.uniform(28, 90))
        x, y = rng.uniform(80, w - 80), rng.uniform(size * 1.5, h - size)
        vx, vy = rng.uniform(-80, 80), rng.uniform(-15, 15)  # px per second
        keys = ((0.0, x, y, size, 0.0), (secs, x + vx * secs, y + vy * secs, size, 0.0))
        actors.append(Actor(i + 1, idx[i], keys, z=size))
    return Scenario("crowd", w, h, secs, tuple(actors), description="14 faces, 28-90 px, walking")


def _small(rng, photos) -> Scenario:
    w, h, secs, n = 1280, 720, 3.0, 8
    idx = pick_photos(rng, photos, n)
    actors = []
    for i in range(n):
        size = float(rng.uniform(12, 22))
        x, y = 100 + i * 150 + rng.uniform(-30, 30), rng.uniform(80, h - 80)
        vx, vy = rng.uniform(-30, 30), rng.uniform(-10, 10)
        keys = ((0.0, x, y, size, 0.0), (secs, x + vx * secs, y + vy * secs, size, 0.0))
        actors.append(Actor(i + 1, idx[i], keys, z=size))
    return Scenario("small", w, h, secs, tuple(actors), description="8 faces, 12-22 px")


def _large(rng, photos) -> Scenario:
    w, h, secs = 1280, 720, 3.0
    idx = pick_photos(rng, photos, 2, big=True)
    a = Actor(1, idx[0], ((0.0, 380, 380, 420, 0.0), (secs, 460, 360, 560, 0.0)), z=2)
    b = Actor(2, idx[1], ((0.0, 1020, 340, 450, 0.0), (secs, 900, 380, 430, 0.0)), z=1)
    return Scenario("large", w, h, secs, (a, b), description="2 faces, 420-560 px, approaching")


def _rotation(rng, photos) -> Scenario:
    w, h, secs = 960, 544, 3.0
    idx = pick_photos(rng, photos, 4)
    ts = np.linspace(0, secs, 13)
    actors = []
    for i, (size, x, amp, phase) in enumerate(
        [(70, 150, 50, 0.0), (110, 390, 50, 1.5), (140, 650, 40, 3.0), (90, 860, 50, 4.5)]
    ):
        keys = tuple(
            (
                float(t),
                x + 10 * math.sin(t),
                280 + 20 * math.cos(t),
                size,
                amp * math.sin(2.1 * t + phase),
            )
            for t in ts
        )
        actors.append(Actor(i + 1, idx[i], keys, z=size))
    return Scenario("rotation", w, h, secs, tuple(actors), description="4 heads tilting up to 50°")


def _motion_blur(rng, photos) -> Scenario:
    w, h, secs = 960, 544, 3.0
    idx = pick_photos(rng, photos, 3)
    ts = np.linspace(0, secs, 61)
    actors = []
    for i, (size, y, amp, omega) in enumerate(
        [(70, 130, 330, 3.2), (100, 290, 300, 3.8), (130, 430, 280, 3.0)]
    ):
        # peak speed amp * omega / 25 = 35-46 px per frame
        keys = tuple((float(t), w / 2 + amp * math.sin(omega * t + i), y, size, 0.0) for t in ts)
        actors.append(Actor(i + 1, idx[i], keys, z=size, shutter=0.8))
    return Scenario(
        "motion_blur",
        w,
        h,
        secs,
        tuple(actors),
        description="3 faces swinging at up to 46 px/frame, blurred",
    )


def _crossing(rng, photos) -> Scenario:
    w, h, secs = 960, 544, 4.0
    idx = pick_photos(rng, photos, 3)
    # A and B walk through each other (B in front); C walks behind a pillar,
    # wholly hidden for 1 s: pillar 200 px, face about 70 px wide, 125 px/s.
    a = Actor(1, idx[0], ((0.0, 120, 200, 90, 0.0), (secs, 840, 220, 90, 0.0)), z=1)
    b = Actor(2, idx[1], ((0.0, 840, 230, 100, 0.0), (secs, 120, 210, 100, 0.0)), z=2)
    c = Actor(3, idx[2], ((0.0, 230, 420, 80, 0.0), (secs, 730, 420, 80, 0.0)), z=0)
    pillar = Occluder((390, 0, 590, h), z=0.5)
    return Scenario(
        "crossing",
        w,
        h,
        secs,
        (a, b, c),
        (pillar,),
        description="2 faces crossing; 1 face behind a pillar for ~1 s",
    )


def _night(rng, photos) -> Scenario:
    w, h, secs, n = 960, 544, 3.0, 4
    idx = pick_photos(rng, photos, n)
    actors = []
    for i, size in enumerate((40, 65, 90, 120)):
        x, y = 140 + i * 220, rng.uniform(150, 380)
        vx = rng.uniform(-40, 40)
        keys = ((0.0, x, y, float(size), 0.0), (secs, x + vx * secs, y, float(size), 0.0))
        actors.append(Actor(i + 1, idx[i], keys, z=size))
    return Scenario(
        "night",
        w,
        h,
        secs,
        tuple(actors),
        night=True,
        description="4 faces, 40-120 px, dim and noisy",
    )


def _enter_leave(rng, photos) -> Scenario:
    w, h, secs = 960, 544, 4.0
    idx = pick_photos(rng, photos, 4)
    paths = [
        ((-120, 180), (w + 120, 220), 90),
        ((w + 150, 380), (-150, 340), 120),
        ((300, -120), (380, h + 120), 80),
        ((700, h + 100), (620, -100), 70),
    ]
    actors = []
    for i, ((x0, y0), (x1, y1), size) in enumerate(paths):
        keys = ((0.0, x0, y0, float(size), 0.0), (secs, x1, y1, float(size), 0.0))
        actors.append(Actor(i + 1, idx[i], keys, z=size))
    return Scenario(
        "enter_leave", w, h, secs, tuple(actors), description="4 faces crossing the frame edge"
    )


BUILDERS: dict[str, Callable[[np.random.Generator, Sequence[FacePhoto]], Scenario]] = {
    "crowd": _crowd,
    "small": _small,
    "large": _large,
    "rotation": _rotation,
    "motion_blur": _motion_blur,
    "crossing": _crossing,
    "night": _night,
    "enter_leave": _enter_leave,
    **IDENTITY_BUILDERS,
}
SCENARIOS = tuple(BUILDERS)
GROUPS = {
    "leaks": tuple(name for name in SCENARIOS if name not in IDENTITY_BUILDERS),
    "identity": tuple(IDENTITY_BUILDERS),
}


def build(name: str, photos: Sequence[FacePhoto], seed: int = 0) -> Scenario:
    """The scenario ``name`` with faces drawn from ``photos``; same seed, same scenario."""
    offset = SCENARIOS.index(name)
    return BUILDERS[name](np.random.default_rng([seed, offset]), photos)


def generate(
    folder: Path,
    photos: Sequence[FacePhoto],
    backgrounds: Sequence[BackgroundClip] = (),
    names: Sequence[str] = SCENARIOS,
    seed: int = 0,
) -> list[tuple[Path, Path]]:
    """Writes each named scenario into ``folder``; returns (video, ground truth) paths."""
    if not photos:
        raise ValueError("no face photos")
    written = []
    for name in names:
        k = SCENARIOS.index(name)
        background = backgrounds[k % len(backgrounds)] if backgrounds else None
        written.append(
            write_scenario(build(name, photos, seed), photos, background, folder, seed + k)
        )
    return written
