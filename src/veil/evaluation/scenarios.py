"""Synthetic test videos with exact ground truth: real faces on real footage.

Each scenario pastes head crops (:class:`~veil.evaluation.sources.FacePhoto`)
onto background footage along known trajectories and writes

- ``<name>.mp4``: H.264 through :func:`veil.media.write_video` (CRF 20), and
- ``<name>.json``: per frame, every face's box (xyxy px, not clipped to the
  frame), identity and visible fraction (:class:`GroundTruth`).

Compositing. A head is pasted through a soft elliptical alpha mask (feathered
over about 8 % of the head's size, and faded out near the edges of its crop), so
no hard edge gives the face away; it is scaled with area averaging, rotated in
the image plane about the face centre, and, in ``motion_blur``, smeared along
its motion over 80 % of a frame interval. Heads are drawn far to near (``z``);
occluders (a pillar) are opaque.

Ground truth. The box of a face rotated by ``a`` is the bounding box of the
ellipse inscribed in its upright box, rotated by ``a`` (a tight box, as a
WIDER-trained detector draws one). The visible fraction is the share of that
ellipse's area that is inside the frame and not covered by anything drawn
later (alpha > 0.5).

Backgrounds are empty stretches of real footage, seen through a slowly moving
crop window (a camera pan), or a synthetic texture when there is no footage.
Everything random comes from one seed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from veil.evaluation.sources import BackgroundClip, FacePhoto, synthetic_background
from veil.media import write_video

FPS = 25
# Keyframe: (seconds, centre x, centre y, face height px, in-plane angle degrees)
Key = tuple[float, float, float, float, float]


@dataclass(frozen=True)
class Actor:
    """One face moving through the scene along linearly interpolated keyframes."""

    face_id: int
    photo: int  # index into the photo list
    keys: tuple[Key, ...]
    z: float = 0.0  # drawn far to near: larger z is in front
    shutter: float = 0.0  # motion blur: share of a frame interval the shutter is open

    def state(self, t: float) -> tuple[float, float, float, float]:
        """(cx, cy, face height, angle) at ``t`` seconds."""
        keys = np.asarray(self.keys, dtype=np.float64)
        return tuple(float(np.interp(t, keys[:, 0], keys[:, i])) for i in range(1, 5))  # type: ignore[return-value]


@dataclass(frozen=True)
class Occluder:
    """An opaque rectangle (a pillar) drawn at depth ``z``."""

    box: tuple[int, int, int, int]
    z: float
    colour: tuple[int, int, int] = (150, 146, 140)


@dataclass(frozen=True)
class Scenario:
    """Everything needed to render one test video."""

    name: str
    width: int
    height: int
    seconds: float
    actors: tuple[Actor, ...]
    occluders: tuple[Occluder, ...] = ()
    night: bool = False
    description: str = ""

    @property
    def frame_count(self) -> int:
        return round(self.seconds * FPS)


@dataclass(frozen=True)
class FaceTruth:
    """One face in one frame."""

    id: int
    box: tuple[float, float, float, float]  # xyxy px, may extend past the frame
    visible: float  # share of the face ellipse in the frame and not covered


@dataclass
class GroundTruth:
    """A scenario's labels: ``frames[i]`` lists the faces of frame ``i``."""

    name: str
    width: int
    height: int
    fps: int
    frames: list[list[FaceTruth]]
    sources: dict[int, str] = field(default_factory=dict)
    description: str = ""

    def to_json(self) -> str:
        data = asdict(self)
        data["frames"] = [[asdict(f) for f in frame] for frame in self.frames]
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> GroundTruth:
        data = json.loads(text)
        frames = [
            [FaceTruth(f["id"], tuple(f["box"]), f["visible"]) for f in frame]  # type: ignore[arg-type]
            for frame in data["frames"]
        ]
        sources = {int(k): v for k, v in data.get("sources", {}).items()}
        return cls(
            data["name"],
            data["width"],
            data["height"],
            data["fps"],
            frames,
            sources,
            data.get("description", ""),
        )

    @classmethod
    def read(cls, path: Path) -> GroundTruth:
        return cls.from_json(Path(path).read_text())


# ---------------------------------------------------------------- compositing


def _alpha_mask(height: int, width: int, face_box: tuple[float, ...]) -> NDArray[np.float32]:
    """Soft ellipse over the head crop, faded to 0 at the crop's edges."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    fx0, fy0, fx1, fy1 = face_box
    fw, fh = fx1 - fx0, fy1 - fy0
    cx, cy = (fx0 + fx1) / 2, (fy0 + fy1) / 2 - 0.1 * fh
    # ellipse through the head: 0.72 face widths, 0.82 face heights from the centre
    r = np.sqrt(((xx - cx) / (0.72 * fw)) ** 2 + ((yy - cy) / (0.82 * fh)) ** 2)
    alpha = np.clip((1.0 - r) / 0.12, 0.0, 1.0)
    feather = max(min(height, width) * 0.08, 1.0)
    edge = np.minimum.reduce([xx + 0.5, yy + 0.5, width - 0.5 - xx, height - 0.5 - yy])
    alpha *= np.clip(edge / feather, 0.0, 1.0)
    return alpha.astype(np.float32)


def ellipse_box(
    cx: float, cy: float, w: float, h: float, angle: float
) -> tuple[float, float, float, float]:
    """Bounding box of the ellipse inscribed in a ``w`` x ``h`` box rotated by ``angle``."""
    a, b, t = w / 2, h / 2, math.radians(angle)
    hw = math.hypot(a * math.cos(t), b * math.sin(t))
    hh = math.hypot(a * math.sin(t), b * math.cos(t))
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def _ellipse_mask(
    height: int, width: int, cx: float, cy: float, w: float, h: float, angle: float
) -> tuple[NDArray[np.bool_], int]:
    """The face ellipse's pixels in the frame, and its whole area in pixels (frame or not)."""
    x0, y0, x1, y1 = ellipse_box(cx, cy, w, h, angle)
    ox, oy = math.floor(x0) - 1, math.floor(y0) - 1
    local = np.zeros((math.ceil(y1) + 2 - oy, math.ceil(x1) + 2 - ox), np.uint8)
    cv2.ellipse(
        local,
        (round((cx - ox) * 16), round((cy - oy) * 16)),
        (max(round(w / 2 * 16), 1), max(round(h / 2 * 16), 1)),
        angle,
        0,
        360,
        1,
        thickness=-1,
        shift=4,
    )
    mask = np.zeros((height, width), bool)
    fx0, fy0 = max(ox, 0), max(oy, 0)
    fx1, fy1 = min(ox + local.shape[1], width), min(oy + local.shape[0], height)
    if fx1 > fx0 and fy1 > fy0:
        mask[fy0:fy1, fx0:fx1] = local[fy0 - oy : fy1 - oy, fx0 - ox : fx1 - ox] > 0
    return mask, max(int(local.sum()), 1)


def _render_head(
    photo: FacePhoto,
    cx: float,
    cy: float,
    face_height: float,
    angle: float,
    velocity: tuple[float, float],
    shutter: float,
) -> tuple[NDArray[np.float32], NDArray[np.float32], int, int]:
    """The head as premultiplied RGB and alpha on a local canvas, and its top-left."""
    scale = face_height / photo.face_height
    ph, pw = photo.rgb.shape[:2]
    size = (max(round(pw * scale), 2), max(round(ph * scale), 2))
    sx, sy = size[0] / pw, size[1] / ph
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    rgb = cv2.resize(photo.rgb, size, interpolation=interp).astype(np.float32)
    fb = photo.box
    alpha = _alpha_mask(size[1], size[0], (fb[0] * sx, fb[1] * sy, fb[2] * sx, fb[3] * sy))
    fcx, fcy = (fb[0] + fb[2]) / 2 * sx, (fb[1] + fb[3]) / 2 * sy
    blur = math.hypot(*velocity) * shutter
    half = math.hypot(*size) / 2 + blur / 2 + 2
    canvas = 2 * math.ceil(half) + 1
    ox, oy = math.floor(cx) - canvas // 2, math.floor(cy) - canvas // 2
    # rotate about the face centre, put it at (cx, cy) in canvas coordinates
    m = cv2.getRotationMatrix2D((fcx, fcy), -angle, 1.0)
    m[0, 2] += cx - ox - fcx
    m[1, 2] += cy - oy - fcy
    premult = rgb * alpha[..., None]
    out_rgb = cv2.warpAffine(premult, m, (canvas, canvas), flags=cv2.INTER_LINEAR)
    out_a = cv2.warpAffine(alpha, m, (canvas, canvas), flags=cv2.INTER_LINEAR)
    if blur >= 1.5:
        length = max(round(blur), 2)
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        direction = math.degrees(math.atan2(velocity[1], velocity[0]))
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), -direction, 1.0)
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        kernel /= kernel.sum()
        out_rgb = cv2.filter2D(out_rgb, -1, kernel)
        out_a = cv2.filter2D(out_a, -1, kernel)
    return out_rgb, out_a, ox, oy


def _paste(
    frame: NDArray[np.float32],
    rgb: NDArray[np.float32],
    alpha: NDArray[np.float32],
    ox: int,
    oy: int,
) -> NDArray[np.bool_]:
    """Alpha-composites a premultiplied layer at (ox, oy); returns where it covers (a > 0.5)."""
    height, width = frame.shape[:2]
    cover = np.zeros((height, width), bool)
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + alpha.shape[1], width), min(oy + alpha.shape[0], height)
    if x1 <= x0 or y1 <= y0:
        return cover
    a = alpha[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    region = frame[y0:y1, x0:x1]
    region *= 1.0 - a[..., None]
    region += rgb[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    cover[y0:y1, x0:x1] = a > 0.5
    return cover


def _background_frame(
    clip: BackgroundClip, t: float, seconds: float, width: int, height: int, pan: NDArray
) -> NDArray[np.float32]:
    """The clip at ``t`` through a crop window panning from ``pan[0]`` to ``pan[1]``."""
    src = clip.frame_at(t)
    sh, sw = src.shape[:2]
    # the window keeps the output's aspect ratio and covers 85 % of the source
    ww = min(sw, sh * width / height) * 0.85
    wh = ww * height / width
    u = t / max(seconds, 1e-6)
    fx, fy = pan[0] + (pan[1] - pan[0]) * u  # window position as a share of the free space
    x0, y0 = fx * (sw - ww), fy * (sh - wh)
    m = np.array([[width / ww, 0, -x0 * width / ww], [0, height / wh, -y0 * height / wh]])
    out = cv2.warpAffine(src, m, (width, height), flags=cv2.INTER_LINEAR)
    return out.astype(np.float32)


def _darken(frame: NDArray[np.float32], rng: np.random.Generator) -> NDArray[np.float32]:
    """Night: a dim, slightly blue picture with sensor noise."""
    dim = 255.0 * (frame / 255.0) ** 1.5 * 0.2
    dim *= np.array([0.85, 0.95, 1.15], np.float32)
    return dim + rng.normal(0.0, 3.0, size=frame.shape).astype(np.float32)


def render(
    scenario: Scenario,
    photos: Sequence[FacePhoto],
    background: BackgroundClip | None,
    seed: int = 0,
) -> tuple[list[NDArray[np.uint8]], GroundTruth]:
    """All frames of ``scenario`` (RGB) and their ground truth."""
    rng = np.random.default_rng(seed)
    w, h = scenario.width, scenario.height
    clip = background or synthetic_background(w, h, scenario.seconds, seed)
    pan = rng.uniform(0, 1, size=(2, 2))
    frames, truth = [], []
    for i in range(scenario.frame_count):
        t = i / FPS
        frame = _background_frame(clip, t, scenario.seconds, w, h, pan)
        layers: list[tuple[float, int, object]] = [(a.z, 0, a) for a in scenario.actors]
        layers += [(o.z, 1, o) for o in scenario.occluders]
        layers.sort(key=lambda item: (item[0], item[1]))
        faces: list[tuple[int, tuple[float, float, float, float], NDArray[np.bool_], float]] = []
        for _, _, item in layers:
            if isinstance(item, Occluder):
                x0, y0, x1, y1 = item.box
                cover = np.zeros((h, w), bool)
                cover[max(y0, 0) : y1, max(x0, 0) : x1] = True
                shade = np.linspace(0.9, 1.1, max(x1 - max(x0, 0), 1), dtype=np.float32)
                frame[cover] = np.asarray(item.colour, np.float32)
                frame[max(y0, 0) : y1, max(x0, 0) : x1] *= shade[None, :, None]
            else:
                actor: Actor = item  # type: ignore[assignment]
                cx, cy, fh, angle = actor.state(t)
                nx, ny, _, _ = actor.state(t + 1 / FPS)
                photo = photos[actor.photo % len(photos)]
                fw = fh * (photo.box[2] - photo.box[0]) / photo.face_height
                rgb, alpha, ox, oy = _render_head(
                    photo, cx, cy, fh, angle, (nx - cx, ny - cy), actor.shutter
                )
                cover = _paste(frame, rgb, alpha, ox, oy)
                mask, area = _ellipse_mask(h, w, cx, cy, fw, fh, angle)
                faces.append((actor.face_id, ellipse_box(cx, cy, fw, fh, angle), mask, area))
            # what this layer covers is hidden for every face drawn before it
            for _, _, mask, _ in faces[:-1] if not isinstance(item, Occluder) else faces:
                mask &= ~cover
        if scenario.night:
            frame = _darken(frame, rng)
        frames.append(np.clip(frame + 0.5, 0, 255).astype(np.uint8))
        truth.append(
            [
                FaceTruth(fid, tuple(round(v, 2) for v in box), round(float(m.sum()) / area, 4))  # type: ignore[arg-type]
                for fid, box, m, area in sorted(faces, key=lambda f: f[0])
            ]
        )
    sources = {a.face_id: photos[a.photo % len(photos)].source for a in scenario.actors}
    gt = GroundTruth(scenario.name, w, h, FPS, truth, sources, scenario.description)
    return frames, gt


def write_scenario(
    scenario: Scenario,
    photos: Sequence[FacePhoto],
    background: BackgroundClip | None,
    folder: Path,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Renders ``scenario`` to ``folder/<name>.mp4`` and ``folder/<name>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    frames, gt = render(scenario, photos, background, seed)
    video = folder / f"{scenario.name}.mp4"
    times = [Fraction(i, FPS) for i in range(len(frames))]
    write_video(video, frames, times)
    truth = folder / f"{scenario.name}.json"
    truth.write_text(gt.to_json())
    return video, truth


# ---------------------------------------------------------------- the scenarios


def _pick(rng: np.random.Generator, photos: Sequence[FacePhoto], n: int, big: bool = False):
    """``n`` photo indices, all different while the list lasts; ``big`` prefers large sources."""
    order = np.arange(len(photos))
    if big:
        sizes = np.array([p.face_height for p in photos])
        order = order[np.argsort(-sizes)][: max(n, min(6, len(photos)))]
    chosen = rng.permutation(order)
    return [int(chosen[i % len(chosen)]) for i in range(n)]


def _crowd(rng, photos) -> Scenario:
    w, h, secs, n = 1280, 720, 3.0, 14
    idx = _pick(rng, photos, n)
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
    idx = _pick(rng, photos, n)
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
    idx = _pick(rng, photos, 2, big=True)
    a = Actor(1, idx[0], ((0.0, 380, 380, 420, 0.0), (secs, 460, 360, 560, 0.0)), z=2)
    b = Actor(2, idx[1], ((0.0, 1020, 340, 450, 0.0), (secs, 900, 380, 430, 0.0)), z=1)
    return Scenario("large", w, h, secs, (a, b), description="2 faces, 420-560 px, approaching")


def _rotation(rng, photos) -> Scenario:
    w, h, secs = 960, 544, 3.0
    idx = _pick(rng, photos, 4)
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
    idx = _pick(rng, photos, 3)
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
    idx = _pick(rng, photos, 3)
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
    idx = _pick(rng, photos, n)
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
    idx = _pick(rng, photos, 4)
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
}
SCENARIOS = tuple(BUILDERS)


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
